"""The registry names every source once, and the tree agrees with it: each kind's parser loads,
each spider entry's module holds the Scrapy spider of that name, each slug has its source folder,
saved pages and tests, and Scrapy's settings load exactly the registry's spiders."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.spider import iter_spider_classes

from spiders import settings
from spiders.registry import KINDS, OFFICIAL_KINDS, SPIDERS, load_parser, parser_id, rank
from storage.terms import SourceKind

ROOT = Path(__file__).resolve().parents[2]
SLUGS = sorted({spec.slug for spec in SPIDERS.values()})


def test_every_source_kind_is_in_the_registry():
    assert set(KINDS) == set(SourceKind)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kinds_parser_loads_and_is_callable_and_its_spider_is_registered(kind):
    assert callable(load_parser(kind))
    assert KINDS[kind].spider in SPIDERS


@pytest.mark.parametrize("name", list(SPIDERS))
def test_every_spider_entrys_module_defines_the_scrapy_spider_of_that_name(name):
    module = importlib.import_module(SPIDERS[name].module)
    assert [spider.name for spider in iter_spider_classes(module)] == [name]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_slug_has_its_source_folder_fixture_folder_and_test_folder(slug):
    assert (ROOT / "spiders" / "sources" / slug).is_dir()
    assert (ROOT / "tests" / "fixtures" / slug).is_dir()
    assert (ROOT / "tests" / "spiders" / "sources" / slug).is_dir()


def test_scrapy_settings_load_exactly_the_registrys_spiders():
    assert sorted(settings.SPIDER_MODULES) == sorted(spec.module for spec in SPIDERS.values())
    loader = SpiderLoader(Settings({"SPIDER_MODULES": settings.SPIDER_MODULES}))
    assert sorted(loader.list()) == sorted(SPIDERS)


def test_ranks_are_distinct_and_the_official_kinds_come_best_first():
    ranks = [spec.rank for spec in KINDS.values()]
    assert len(set(ranks)) == len(ranks)
    assert list(OFFICIAL_KINDS) == sorted((kind for kind, spec in KINDS.items() if spec.official), key=rank)
    assert all(
        rank(kind) < rank(other) for kind in OFFICIAL_KINDS for other in KINDS if other not in OFFICIAL_KINDS
    )


# One saved raw body of each kind, and the URL it was fetched from.
SAVED_BODIES = {
    SourceKind.API: ("api/detail-1679416.json", "http://api.test/api/writtenquestions/questions/1679416"),
    SourceKind.HTML: (
        "pages/html/commons_7926_answered.html",
        "https://questions-statements.parliament.uk/written-questions/detail/2024-07-23/7926",
    ),
    SourceKind.HANSARD: (
        "pages/hansard/commons_single_housing_benefit_2004.html",
        "https://api.parliament.uk/historic-hansard/written_answers/2004/jan/05/housing-benefit",
    ),
    SourceKind.BLOG: ("blog/seed_hl2472_hikvision.html", "https://blog.test/2024/01/hikvision/"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kinds_parser_re_derives_records_from_a_stored_raw_body(kind):
    from spiders.records import AnswerRecord

    name, url = SAVED_BODIES[kind]
    records = load_parser(kind)((ROOT / "tests" / "fixtures" / name).read_bytes(), url)
    assert isinstance(records, tuple) and records
    assert all(isinstance(record, AnswerRecord) for record in records)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kinds_parser_id_is_the_sha256_of_its_code_and_kinds_differ(kind):
    module = importlib.import_module(KINDS[kind].parser_module)
    assert parser_id(kind) == KINDS[kind].parser_id() == module.PARSER_ID
    assert len(parser_id(kind)) == 64 and int(parser_id(kind), 16) >= 0
    assert len({parser_id(other) for other in KINDS}) == len(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kinds_parser_raises_value_error_on_an_unreadable_body(kind):
    with pytest.raises(ValueError):
        load_parser(kind)(
            b"\xff\xfe\x00 not text \x81\xff", "https://x.test/written-questions/detail/2024-01-01/1"
        )
