"""The SSRF guard: a crawl connects only to public addresses, checked at every hop, before any
packet is sent; the parliament spider and `crawl pages --url` stay on the official hosts."""

from __future__ import annotations

import ipaddress

import pytest
from twisted.internet.address import IPv4Address

from monitor.cli import main
from monitor.cli.crawling import official_page_url
from monitor.demo.site import LocalSite
from spiders import safety
from spiders.middlewares import GuardedResolver
from spiders.safety import AddressPolicy, address_refusal
from tests.support.helpers import P1, P2, crawl, site_pages

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # the cloud metadata service
    "100.64.0.1",
    "224.0.0.1",
    "0.0.0.0",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_loopback_private_link_local_cgnat_multicast_and_mapped_addresses_are_refused(address):
    assert address_refusal(ipaddress.ip_address(address)) is not None
    assert AddressPolicy().refusal(address) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert AddressPolicy().refusal(address) is None


def test_the_setting_allows_all_or_named_networks_and_rejects_nonsense():
    assert AddressPolicy.from_setting("1").refusal("127.0.0.1") is None
    assert AddressPolicy.from_setting("").refusal("127.0.0.1") is not None
    only = AddressPolicy.from_setting("127.0.0.1")
    assert only.refusal("127.0.0.1") is None and only.refusal("127.0.0.2") is not None
    with pytest.raises(ValueError, match="PQWATCH_ALLOW_PRIVATE_ADDRESSES"):
        AddressPolicy.from_setting("yes please")


class _Receiver:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution: object) -> None:  # noqa: N802
        pass

    def addressResolved(self, address: IPv4Address) -> None:  # noqa: N802
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:  # noqa: N802
        self.complete = True


class _Rebinding:
    """A name server that answers a public address first and loopback on the next lookup."""

    def __init__(self) -> None:
        self.answers = [["93.184.216.34"], ["127.0.0.1"], ["10.0.0.1", "93.184.216.35"]]

    def resolveHostName(self, receiver, host, port=0, types=None, semantics="TCP"):  # noqa: N802
        receiver.resolutionBegan(None)
        for address in self.answers.pop(0):
            receiver.addressResolved(IPv4Address("TCP", address, port))
        receiver.resolutionComplete()
        return receiver


class _Reactor:
    nameResolver = _Rebinding()  # noqa: N815


def test_the_resolver_hands_on_only_permitted_addresses_at_every_lookup(monkeypatch):
    # Every connection asks again, so a name that rebinds to loopback is refused at that hop.
    monkeypatch.setattr(safety, "REFUSED_HOSTS", {})
    monkeypatch.setattr("spiders.middlewares.REFUSED_HOSTS", safety.REFUSED_HOSTS)
    resolver = GuardedResolver(_Reactor(), AddressPolicy())
    first, second, third = _Receiver(), _Receiver(), _Receiver()
    resolver.resolveHostName(first, "rebind.example", 443)
    assert first.addresses == ["93.184.216.34"] and "rebind.example" not in safety.REFUSED_HOSTS
    resolver.resolveHostName(second, "rebind.example", 443)
    assert second.addresses == [] and second.complete
    assert "127.0.0.1 is loopback" in safety.REFUSED_HOSTS["rebind.example"]
    resolver.resolveHostName(third, "rebind.example", 443)
    assert third.addresses == ["93.184.216.35"]  # the private one of a mixed answer is dropped


@pytest.fixture
def guarded(monkeypatch):
    """The guard on, as in production."""
    monkeypatch.delenv("PQWATCH_ALLOW_PRIVATE_ADDRESSES")


def test_a_loopback_url_is_refused_before_connecting(guarded, site, db_url, capfd):
    status, out = crawl(db_url, f"{site.url}/", capfd=capfd)
    assert status == 1
    assert site.requests == []  # not even robots.txt
    refused = [line for line in out.splitlines() if "refused" in line]
    assert len(refused) == 1 and "127.0.0.1 is loopback" in refused[0]
    assert "1 error" in out


def test_a_name_resolving_to_loopback_is_refused_before_connecting(guarded, site, db_url, capfd):
    status, out = crawl(db_url, f"http://localhost:{site.port}/", capfd=capfd)
    assert status == 1
    assert site.requests == []
    refused = [line for line in out.splitlines() if "refused" in line]
    assert len(refused) == 1 and "loopback" in refused[0] and "localhost" in refused[0]
    assert "1 error" in out


def test_a_redirect_to_a_refused_address_is_stopped_at_that_hop(monkeypatch, db_url, capfd):
    # 127.0.0.1 allowed, 127.0.0.2 not: the second site is on the crawl's hosts, so only the
    # address guard stands between the redirect and it.
    monkeypatch.setenv("PQWATCH_ALLOW_PRIVATE_ADDRESSES", "127.0.0.1")
    with LocalSite() as first, LocalSite(host="127.0.0.2") as second:
        first.replace(site_pages(first.url), redirects={P1: f"{second.url}{P1}"})
        second.replace(site_pages(second.url))
        status, out = crawl(db_url, f"{first.url}/", f"{second.url}{P2}", capfd=capfd)
    assert status == 1
    assert second.requests == []
    assert ("GET", P1, 301) in first.requests
    refused = [line for line in out.splitlines() if "refused" in line]
    assert len(refused) == 2 and all("127.0.0.2 is loopback" in line for line in refused)


def test_the_parliament_spider_refuses_a_redirect_off_its_api_host(db_url, capfd):
    with LocalSite() as api, LocalSite(host="127.0.0.2") as elsewhere:
        api.set_status(
            "/api/writtenquestions/questions",
            302,
            {"Location": f"{elsewhere.url}/api/writtenquestions/questions"},
        )
        status = main(["--db", db_url, "crawl", "parliament", "--api-base", api.url, "--delay", "0"])
        out = capfd.readouterr()
    assert status == 1
    assert elsewhere.requests == []
    assert "refused redirect" in out.out + out.err


@pytest.mark.parametrize(
    "url",
    [
        "https://questions-statements.parliament.uk/written-questions/detail/2024-01-05/7926",
        "https://api.parliament.uk/historic-hansard/written-answers/2002/may/09/x",
    ],
)
def test_official_page_urls_pass(url):
    assert official_page_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/written-questions/detail/2024-01-05/7926",
        "http://questions-statements.parliament.uk/written-questions/detail/2024-01-05/7926",
        "https://questions-statements.parliament.uk:8443/written-questions/detail/2024-01-05/7926",
        "https://api.parliament.uk/elsewhere/historic-hansard/x",
        "https://questions-statements.parliament.uk.evil.example/written-questions/detail/2024-01-05/1",
    ],
)
def test_crawl_pages_refuses_a_url_off_the_official_hosts(url, db_url, capfd):
    assert not official_page_url(url)
    assert main(["--db", db_url, "crawl", "pages", "--url", url]) == 2
    err = capfd.readouterr().err
    assert "not on an official Parliament host" in err and len(err.strip().splitlines()) == 1


def test_any_host_lets_crawl_pages_read_another_host(db_url):
    with LocalSite() as site:
        site.set_status("/written-questions/detail/2024-01-05/7926", 404)
        url = f"{site.url}/written-questions/detail/2024-01-05/7926"
        assert main(["--db", db_url, "crawl", "pages", "--delay", "0", "--any-host", "--url", url]) == 0
        assert ("GET", "/written-questions/detail/2024-01-05/7926", 404) in site.requests
