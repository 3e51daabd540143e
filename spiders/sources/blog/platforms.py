"""What blog platforms and themes put on their pages, as plain data: which markup is furniture,
where a post's content, title and date are, which links lead to posts and older listings, and
which URLs and query parameters never name a post.

Supporting another platform or theme is adding its names here, under a comment naming it;
parse.py and discover.py compile these once, at import. Strings only (CSS selectors, regular
expression sources, words), so this module imports nothing."""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Page furniture: never part of an answer, removed from the content root before its text is read.

FURNITURE_TAGS = (
    # Any HTML page: code, embeds, forms and the page's own navigation, side panels and footer.
    *("script", "style", "noscript", "template", "iframe", "form", "nav", "aside", "footer"),
)
FURNITURE_IDS = (
    # WordPress classic themes (Twenty Ten … Twenty Twenty-One, GeneratePress, Astra): the
    # sidebars, comments and reply form.
    *("sidebar", "secondary", "right-sidebar", "left-sidebar", "comments", "respond"),
    # Genesis's primary sidebar.
    "genesis-sidebar-primary",
    # Divi's page frame, and the classic themes' header and footer.
    *("main-footer", "footer", "main-header", "masthead", "colophon"),
    # Cookie banners: Cookie Notice, GDPR Cookie Consent (CookieLawInfo), Complianz, CookieYes.
    *("cookie-notice", "cookie-law-info-bar", "cmplz-cookiebanner-container", "ckyConsent"),
)
FURNITURE_CLASSES = (
    # WordPress widgets and sidebars (Genesis: "sidebar-primary", Astra: "sidebar-main").
    *("sidebar", "widget", "widget-area", "sidebar-primary", "sidebar-main"),
    # Divi's widget area.
    "et_pb_widget_area",
    # Comments: the classic comments template, Genesis's, Astra's and the block theme's comments
    # block, each comment and its reply form.
    *("comments-area", "comment-respond", "commentlist", "comment-list", "ast-comment-list"),
    *("entry-comments", "wp-block-comments", "wp-block-comment-template", "comment"),
    # Jetpack: sharing buttons, likes and related posts (appended inside the post's content).
    *("sharedaddy", "sd-sharing", "jp-relatedposts"),
    # Divi's Monarch social sharing, AddToAny, Social Warfare and other themes' share buttons.
    *("et_social_inline", "et_social_inline_bottom", "share-buttons"),
    *("addtoany_share_save_container", "swp_social_panel"),
    # WordPress post navigation (previous / next post), and the block themes' post-navigation link.
    *("post-navigation", "nav-links", "wp-block-post-navigation-link"),
    # Related and recent posts: themes' own, YARPP, Contextual Related Posts, and the block
    # editor's Latest Posts block (block themes' sidebars and footers).
    *("related-posts", "yarpp-related", "crp_related", "wp-block-latest-posts"),
    # Cookie banners: Cookie Notice, Complianz, CookieYes, GDPR Cookie Consent.
    *("cookie-notice-container", "cmplz-cookiebanner", "cky-consent-container", "cli-bar-container"),
    # Blogger: the share buttons under a post and the Popular Posts gadget's snippets.
    *("post-share-buttons", "PopularPosts"),
    # Ghost (Casper): the members' call to action, the comments and the "read more" cards.
    *("footer-cta", "gh-post-upgrade-cta", "article-comments", "read-more-wrap"),
    # Drupal: a node's comment section, and the theme's sidebar regions (Olivero's
    # "region--sidebar", Bartik's and Drupal 7's "region-sidebar-first" and kin).
    *("comment-wrapper", "region--sidebar", "region--sidebar-first", "region--sidebar-second"),
    *("region-sidebar-first", "region-sidebar-second", "layout-sidebar-first", "layout-sidebar-second"),
    # Substack: the subscribe box inside a post's body.
    *("subscription-widget-wrap", "subscription-widget-wrap-editor"),
    # Medium: what it marks as not the story for its text-to-speech reader (the byline, the
    # clap, response and share bars), which sits among the story's paragraphs.
    "speechify-ignore",
)
# Furniture names that also wrap a post itself on some platform: they never rule out the answers
# found inside them (Blogger wraps its whole post column in <div class="widget Blog">), though an
# element of that name that holds no answer is still dropped from the content region.
AMBIGUOUS_FURNITURE_CLASSES = ("widget",)

# ---------------------------------------------------------------------------------------------
# Where a post is. First the answers themselves: parse.py takes the element that holds every
# republishing format's own lines (formats.is_anchor) outside furniture. On a page without such
# lines (a news post), the first selector, in this order, that matches outside furniture.

CONTENT_ROOTS = (
    "article .entry-content",  # WordPress (hentry markup), the post's own article
    ".entry-content",  # WordPress (block themes: "entry-content wp-block-post-content")
    ".wp-block-post-content",  # WordPress block themes
    ".post-content",  # many themes (Divi's theme builder among them)
    ".et_pb_post_content",  # Divi's post content module
    ".post-body",  # Blogger
    ".gh-content",  # Ghost (Casper)
    ".body.markup",  # Substack
    ".blog-item-content",  # Squarespace
    ".field--name-body",  # Drupal
    '[data-id="content-viewer"]',  # Wix
    ".entry",  # older WordPress themes (Kubrick and its kin)
    "article",  # any HTML5 page
    "main",
    "#content",  # WordPress classic themes
    "#main-content",  # Divi
)
TITLES = (
    "h1.entry-title",  # WordPress (hentry markup)
    "h1.wp-block-post-title",  # WordPress block themes
    ".entry-title",  # hentry markup in another heading (Blogger's "h3.post-title.entry-title")
    "article h1",  # any HTML5 page
    "h1",
    "title",
)

# A post's own date, tried in this order: the Open Graph meta tag (Yoast SEO, Jetpack and most
# themes write it), the post's <time datetime>, then the theme's printed date.
PUBLISHED_META_PROPERTY = "article:published_time"  # Open Graph
PUBLISHED_TIMES = (
    "article time[datetime]",  # HTML5 themes
    ".wp-block-post-date time[datetime]",  # WordPress block themes (no <article>)
)
PUBLISHED_TEXT = (
    ".post-meta .published",  # Divi's post meta line
    ".published",  # WordPress (hentry markup)
    "time.entry-time",  # Genesis
    '[data-testid="storyPublishDate"]',  # Medium
)

# ---------------------------------------------------------------------------------------------
# Finding posts: listings, pagination, sitemaps.

# <body class> of a single post, and of pages that list posts, on each platform: WordPress's
# body_class() ("single", "home blog", "archive"…), Blogger's layouts ("item-view" / "feed-view"),
# Ghost ("post-template" / "home-template", "tag-template", "paged"), Drupal ("page-node-type-
# article" / "path-frontpage"), Squarespace ("view-item" / "view-list").
POST_BODY_CLASSES = (
    *("single", "single-post", "item-view", "post-template", "page-node-type-article"),
    *("node-type-article", "view-item"),
)
LISTING_BODY_CLASSES = (
    *("blog", "archive", "home", "search", "paged", "feed-view", "home-template", "tag-template"),
    *("author-template", "path-frontpage", "view-list"),
)
# Open Graph's og:type of a post.
POST_OG_TYPE = "article"
# schema.org types (JSON-LD "@type", at the top or in its "@graph") of a post's page and of a
# page listing posts: Yoast SEO, Ghost, Substack, Medium, Wix and Squarespace write them.
POST_LD_TYPES = ("Article", "BlogPosting", "NewsArticle", "SocialMediaPosting", "Report")
LISTING_LD_TYPES = ("Blog", "CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage")

POST_LINKS = (
    # Any HTML5 listing: each post's heading links to it.
    *("article h1 a[href]", "article h2 a[href]", "article h3 a[href]"),
    ".entry-title a[href]",  # WordPress (hentry markup)
    "a[rel~=bookmark][href]",  # WordPress and Blogger permalinks
    "a[rel~=permalink][href]",
    ".et_pb_post h2 a[href]",  # Divi's blog module
    "a.more-link[href]",  # WordPress's "Continue reading"
    ".wp-block-post-title a[href]",  # WordPress block themes' post template
    ".post-title a[href]",  # Blogger ("h3.post-title a"), and many themes
    ".post-outer a.timestamp-link[href]",  # Blogger's permalink on the date
    "a.post-card-content-link[href]",  # Ghost (Casper's post cards)
    "a.post-preview-title[href]",  # Substack's post previews (home page and /archive)
    ".blog-post .headline a[href]",  # NationBuilder's blog entries (".blog-post.news_item")
    "a.read-more[href]",  # "Read more" links (NationBuilder, GeneratePress)
)
# A post's card on any listing: a link holding the post's heading, inside an <article> (Medium's
# profile pages wrap each preview's <h2> in its link).
POST_LINK_XPATHS = ("//article//a[@href][.//h1 or .//h2 or .//h3]",)
# A date-shaped permalink, on any platform: /YYYY/MM/DD/slug (WordPress's default "day and name"),
# /YYYY/MM/slug (WordPress's "month and name", Blogger's /YYYY/MM/slug.html). Not a date archive
# (/2024/03/ or /2024/03/05/).
DATED_PERMALINK = r"^/(?:[^/]+/)?\d{4}/\d{2}/(?:\d{2}/)?(?!\d+/?$|page/)[^/]+"
# A listing's next page: WordPress and Ghost paginate as <listing>/page/N/; the query parameter
# of a page: WordPress's "paged" and block themes' "query-<id>-page", Drupal's and NationBuilder's
# "page", Blogger's "updated-max", Squarespace's "offset".
LISTING_PAGE = r"/page/\d+/?$"
LISTING_PAGE_PARAMS = r"^(?:paged?|query-\d+-page|updated-max|offset|pg)$"
# Words (matched anywhere, any case) of a link to older posts, and the class words of pagination
# links (WordPress's "page-numbers", block themes' "wp-block-query-pagination-next", Blogger's
# "blog-pager-older-link").
OLDER_WORDS = ("older", "previous", "next", "more posts", "«", "»", "›", "‹", "→")
PAGINATION_CLASS_WORDS = ("page", "pag", "older", "next")
# The feeds a page advertises (<link rel="alternate" type=…>): RSS, Atom, JSON Feed. Not a
# comments feed (WordPress's /comments/feed/), which lists comments, not posts.
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
NOT_FEED_PATHS = r"/comments/"
# Words naming the sitemaps of posts and pages in a sitemap index (WordPress core's
# wp-sitemap-posts-post-1.xml, Yoast's post-sitemap.xml), not of users, tags or categories.
SITEMAP_WORDS = ("post", "page")

# ---------------------------------------------------------------------------------------------
# URLs that never name a post.

# WordPress path sections: archives, feeds, the admin and login, the REST API, search, the about page.
NOT_POST_SECTIONS = (
    *("category", "tag", "author", "feed"),
    *("wp-admin", r"wp-login\.php", "wp-json"),
    *("comments", "search", "about"),
)
# Uploads (WordPress's /wp-content/uploads/…): images, documents, archives, media.
NOT_POST_EXTENSIONS = (r"jpe?g", "png", "gif", "pdf", r"docx?", r"xlsx?", "zip", "mp3", "mp4")

# Query parameters that never change what a post says: Divi's blog-module paging (et_blog),
# WordPress's reply-to-comment and share links, campaign and click tracking, AMP, Medium's
# referral tracking (?source=user_profile_page…).
NOISE_PARAMS = ("et_blog", "utm_.*", "replytocom", "share", "fbclid", "gclid", "amp", "source")
# Divi serves "<dated permalink>/page/N/" (with ?et_blog) for the post at the permalink.
DATED_PERMALINK_PAGE = r"^(/\d{4}/\d{2}(?:/\d{2})?/[^/]+/)page/\d+/?$"
