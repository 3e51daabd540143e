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
    # WordPress classic themes (Twenty Ten … Twenty Seventeen): the sidebar, comments and reply form.
    *("sidebar", "secondary", "comments", "respond"),
    # Divi's page frame, and the classic themes' header and footer.
    *("main-footer", "footer", "main-header", "masthead"),
)
FURNITURE_CLASSES = (
    # WordPress widgets and sidebars.
    *("sidebar", "widget", "widget-area"),
    # Divi's widget area.
    "et_pb_widget_area",
    # WordPress comments: the classic comments template and the block theme's comments block.
    *("comments-area", "comment-respond", "commentlist", "comment-list", "wp-block-comments"),
    # Jetpack: sharing buttons and related posts.
    *("sharedaddy", "sd-sharing", "jp-relatedposts"),
    # Divi's Monarch social sharing, and other themes' share buttons.
    *("et_social_inline", "et_social_inline_bottom", "share-buttons"),
    # WordPress post navigation (previous / next post).
    *("post-navigation", "nav-links"),
    # Related posts: themes' own, and YARPP (Yet Another Related Posts Plugin).
    *("related-posts", "yarpp-related"),
)

# ---------------------------------------------------------------------------------------------
# Where a post is: the first selector, in this order, that matches outside furniture.

CONTENT_ROOTS = (
    "article .entry-content",  # WordPress (hentry markup), the post's own article
    ".entry-content",  # WordPress
    ".post-content",  # many themes (Divi's theme builder among them)
    ".et_pb_post_content",  # Divi's post content module
    ".post-body",  # Blogger
    ".entry",  # older WordPress themes (Kubrick and its kin)
    "article",  # any HTML5 page
    "main",
    "#content",  # WordPress classic themes
    "#main-content",  # Divi
)
TITLES = (
    "h1.entry-title",  # WordPress (hentry markup)
    "article h1",  # any HTML5 page
    "h1",
    "title",
)

# A post's own date, tried in this order: the Open Graph meta tag (Yoast SEO, Jetpack and most
# themes write it), the post's <time datetime>, then the theme's printed date.
PUBLISHED_META_PROPERTY = "article:published_time"  # Open Graph
PUBLISHED_TIMES = "article time[datetime]"  # HTML5 themes
PUBLISHED_TEXT = (
    ".post-meta .published",  # Divi's post meta line
    ".published",  # WordPress (hentry markup)
)

# ---------------------------------------------------------------------------------------------
# Finding posts: listings, pagination, sitemaps.

# <body class> of a single post, and of pages that list posts (WordPress's body_class()).
POST_BODY_CLASSES = ("single", "single-post")
LISTING_BODY_CLASSES = ("blog", "archive", "home", "search")
# Open Graph's og:type of a post.
POST_OG_TYPE = "article"

POST_LINKS = (
    # Any HTML5 listing: each post's heading links to it.
    *("article h1 a[href]", "article h2 a[href]", "article h3 a[href]"),
    ".entry-title a[href]",  # WordPress (hentry markup)
    "a[rel~=bookmark][href]",  # WordPress permalinks
    ".et_pb_post h2 a[href]",  # Divi's blog module
    "a.more-link[href]",  # WordPress's "Continue reading"
)
# A listing's next page: WordPress paginates as <listing>/page/N/.
LISTING_PAGE = r"/page/\d+/?$"
# Words (matched anywhere, any case) of a link to older posts, and the class word of WordPress's
# page-number links (paginate_links' "page-numbers").
OLDER_WORDS = ("older", "previous", "next", "more posts", "«", "»", "›", "‹")
PAGINATION_CLASS_WORD = "page"
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
# WordPress's reply-to-comment and share links, campaign and click tracking, AMP.
NOISE_PARAMS = ("et_blog", "utm_.*", "replytocom", "share", "fbclid", "gclid", "amp")
# Divi serves "<dated permalink>/page/N/" (with ?et_blog) for the post at the permalink.
DATED_PERMALINK_PAGE = r"^(/\d{4}/\d{2}(?:/\d{2})?/[^/]+/)page/\d+/?$"
