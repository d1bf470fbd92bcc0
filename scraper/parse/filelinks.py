"""Attachment links: the files a disclosure page carries (附件：1. ….pdf 2. ….docx). Pure.

:func:`find_attachments` reads the parsed tree once the article container is chosen
(:func:`scraper.parse.container.find_content`) and returns an :class:`AttachmentLink` per
file, in document order, each URL once. It looks

- inside the container: every link that is a candidate (below), and every ``<img>`` of
  the body (``image=True``);
- around it, in the *article region*: the container and up to :data:`_REGION_LEVELS`
  of its ancestors, short of ``<body>`` and of an ancestor that holds the page's footer
  or header (two of :data:`~scraper.parse.container.CHROME_MARKERS` in its text). There
  only links inside an *attachment area* count: an element whose id or class names an
  attachment (``fujian``, ``fj-a``, ``attach``, ``xgfj``, ``appendix``, ``file_ul_fj`` …)
  or whose text starts with 附件 (附件：, 附件下载, 相关附件), and that is not navigation,
  a header or a footer. A footer's 网站地图.pdf or a menu's 下载中心 never counts.

A link is a candidate when its URL's path ends in a file extension
(:data:`FILE_EXTENSIONS`, :data:`IMAGE_EXTENSIONS`), when it points at a CMS download
handler (``downfile.jsp?…filename=…``, ``/module/download/…``, ``/attach…``,
``/uploadfile/…``, ``?fileid=`` …), or when its text says 附件 or 下载 or ends in a file
extension (unless it points at a column page: a path ending in ``/`` or ``index.…``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from scraper.fetching.urls import normalize_url
from scraper.parse.container import holds_chrome
from scraper.parse.links import document_base, resolve_href
from scraper.parse.record import AttachmentLink
from scraper.parse.text import normalize_space

#: Extensions of the documents sites attach (WPS's wps/et, the OFD format, archives).
FILE_EXTENSIONS: frozenset[str] = frozenset(
    ("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "zip", "rar", "7z", "txt", "csv")
)
#: Extensions of images (a scanned document is often attached as pictures).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff"))
KNOWN_EXTENSIONS: frozenset[str] = FILE_EXTENSIONS | IMAGE_EXTENSIONS

#: How many ancestors of the container the article region reaches at most.
_REGION_LEVELS = 3
#: How far up from a link an attachment area is looked for.
_AREA_LEVELS = 6

# Download handlers of the CMSs seen on government sites: Lonsun's
# /module/download/downfile.jsp?classid=0&filename=….pdf, Hanweb jpaas's
# /front/document/download?fileUrl=… and file-download?fileUrl=…, 常州's
# /downxxgk.php?fid=…, NFCMS's /attachment/0/…, upload folders.
_HANDLER_PATH = re.compile(r"downfile|download|downxxgk|getfile|/attach|/uploadfiles?/", re.I)
_HANDLER_QUERY = re.compile(
    r"(?:^|&)(?:file_?name|file_?id|file_?url|file_?path|attach\w*id|fjid)=", re.I
)
# A path ending in one of these is a web page, not a file (a handler needs a query then).
_PAGE_SUFFIX = re.compile(r"\.(?:s?html?|jhtml|xhtml)$", re.I)
# A column page: /xzzx/, /xzzq/index.jhtml (下载中心 in a menu).
_COLUMN_PAGE = re.compile(r"(?:/|/index\.\w+)$", re.I)
_FILE_TEXT = re.compile("附件|下载")
# Query parameters that name the file; file_url/file_path give a path whose last segment does.
_NAME_KEYS = frozenset(("filename", "file_name", "name", "fname"))
_PATH_KEYS = frozenset(("fileurl", "file_url", "filepath", "file_path"))
# An attachment area's id or class: 附件 (fujian, fj), attach, appendix/appen, annex,
# enclosure, xgfj (相关附件), a file list (file_ul_fj, filelist, files).
_AREA_NAME = re.compile(
    r"fujian|attach|appen|annex|enclosure|xgfj|download"
    r"|(?:^|[-_\s])fj(?:$|[-_\s\d])|fj(?:xz|down|list|box)|(?:^|[-_\s])files?(?:$|[-_\s]|list|box)",
    re.I,
)
_AREA_TEXT = re.compile("(?:相关|下载)?附件")
# Where an attachment area never is: navigation, headers, footers, menus, sidebars.
_CHROME_NAME = re.compile(
    r"foot|bottom|copyright|(?:^|[-_\s])nav|menu|header|sidebar|crumb|share", re.I
)
_CHROME_TAGS = frozenset(("nav", "header", "footer", "aside"))
_LINKS = "a[href], area[href], img[src]"
# What any candidate's href or text holds (a superset of the rules below, checked first).
_HINT = re.compile(
    r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z|txt|csv|jpe?g|png|gif|bmp|tiff?)\s*(?:$|[?#])"
    r"|down|attach|upload|file",
    re.I,
)
_TEXT_HINT = re.compile(r"附件|下载|\.[a-zA-Z7]{2,4}\s*$")
# File-type icons and spacers templates put beside an attachment link (pdf.gif, word.png).
_ICON_NAMES = frozenset(
    (
        *("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "ofd", "zip", "rar", "txt"),
        *("ppt", "pptx", "word", "excel", "acrobat", "file", "icon", "spacer", "blank"),
    )
)
_ICON_PATH = re.compile(r"/icons?/", re.I)


def find_attachments(
    tree: Any, container: Any | None, url: str | None
) -> tuple[AttachmentLink, ...]:
    """Return the page's attachment links, in document order, each URL once (the first
    place it appears). ``tree`` is the parsed page (a ``LexborHTMLParser``),
    ``container`` the article's element (None: no article, the attachment areas of
    ``<body>`` are read) and ``url`` the page's own URL, which relative links resolve
    against (with the page's ``<base href>``); without it, only absolute ones are kept."""
    page = normalize_url(url) if url else None
    base = document_base(tree, page or "")
    region = _region(tree, container)
    if region is None:
        return ()
    inside = {node.mem_id for node in container.css(_LINKS)} if container is not None else set()
    found: dict[str, AttachmentLink] = {}
    for node in region.css(_LINKS):
        in_article = node.mem_id in inside
        if node.tag == "img":
            if in_article:
                link = _image(node, base)
                if link is not None and link.url != page:
                    found.setdefault(link.url, link)
            continue
        href = node.attributes.get("href") or ""
        raw_text = node.text(deep=True)
        # Most links are menus and articles: skip them before resolving anything.
        if _HINT.search(href) is None and _TEXT_HINT.search(raw_text) is None:
            continue
        resolved = resolve_href(href, base)
        if resolved is None or resolved == page:
            continue
        text = normalize_space(raw_text)
        if not _is_candidate(resolved, text):
            continue
        if in_article or _in_area(node, region):
            found.setdefault(resolved, _link(resolved, text))
    return tuple(found.values())


def _region(tree: Any, container: Any | None) -> Any | None:
    """The article region: the container and up to three ancestors, short of ``<body>``
    and of the first ancestor whose text holds the page's footer or header."""
    if container is None:
        return tree.body
    region = container
    if region.tag in ("body", "html"):
        return region
    text: str | None = None  # the text of the region so far, once read
    for _ in range(_REGION_LEVELS):
        parent = region.parent
        if parent is None or parent.tag in ("body", "html"):
            break
        text = _text_around(parent, region, text)
        if holds_chrome(text):
            break
        region = parent
    return region


def _text_around(parent: Any, child: Any, child_text: str | None) -> str:
    """Return ``parent.text(deep=True)``; with ``child``'s text given, only the text of
    its siblings is read (the article would otherwise be read again at each level).

    Lexbor's deep text is its text nodes' data in document order, so it is the texts of
    the children joined."""
    if child_text is None:
        return str(parent.text(deep=True))
    key = child.mem_id
    return "".join(
        child_text if node.mem_id == key else node.text(deep=True)
        for node in parent.iter(include_text=True)
    )


def _in_area(node: Any, region: Any) -> bool:
    """True if a link outside the article sits in an attachment area of the region."""
    ancestor = node.parent
    for _ in range(_AREA_LEVELS):
        if ancestor is None:
            return False
        attributes = ancestor.attributes
        name = f"{attributes.get('id') or ''} {attributes.get('class') or ''}"
        if ancestor.tag in _CHROME_TAGS or _CHROME_NAME.search(name):
            return False
        if _AREA_NAME.search(name):
            return True
        if _AREA_TEXT.match(ancestor.text(deep=True, strip=True)):
            return True
        if ancestor is region:
            return False
        ancestor = ancestor.parent
    return False


def _is_candidate(url: str, text: str) -> bool:
    """A file by its URL (extension or download handler), or by its text."""
    parts = urlsplit(url)
    path = parts.path
    if _extension(unquote(path)) in KNOWN_EXTENSIONS:
        return True
    if _HANDLER_QUERY.search(parts.query):
        return True
    if _HANDLER_PATH.search(path) and (parts.query or not _PAGE_SUFFIX.search(path)):
        return True
    if _FILE_TEXT.search(text) or _extension(text) in KNOWN_EXTENSIONS:
        return parts.query != "" or _COLUMN_PAGE.search(path) is None
    return False


def _link(url: str, text: str) -> AttachmentLink:
    filename = _filename(url, text)
    extension = _extension(filename) if filename else ""
    if extension not in KNOWN_EXTENSIONS:
        extension = _extension(unquote(urlsplit(url).path))
        extension = extension if extension in KNOWN_EXTENSIONS else ""
    return AttachmentLink(url=url, text=text, filename=filename, extension=extension)


def _image(node: Any, base: str) -> AttachmentLink | None:
    """A body image, or None for a file-type icon, a spacer, or a picture a script draws
    (a path ending in .php, .jsp …: QR codes, counters)."""
    url = resolve_href(node.attributes.get("src"), base)
    if url is None:
        return None
    path = unquote(urlsplit(url).path)
    last = path.rsplit("/", 1)[-1]
    extension = _extension(last)
    known = extension in KNOWN_EXTENSIONS
    if extension and not known:
        return None
    if _ICON_PATH.search(path) or last.rpartition(".")[0].lower() in _ICON_NAMES:
        return None
    if _beside_file_link(node):
        return None
    attributes = node.attributes
    text = normalize_space(attributes.get("alt") or attributes.get("title") or "")
    return AttachmentLink(
        url=url,
        text=text,
        filename=last if known else None,
        extension=extension if known else "",
        image=True,
    )


def _beside_file_link(node: Any) -> bool:
    """True for an image right before a link to a document: the link's icon (海南's
    Ucap pages put a hashed .gif before each attachment)."""
    sibling = node.next
    while sibling is not None and sibling.tag == "-text" and not sibling.text_content.strip():
        sibling = sibling.next
    if sibling is None or sibling.tag != "a":
        return False
    href = sibling.attributes.get("href") or ""
    return _extension(unquote(urlsplit(href.strip()).path)) in FILE_EXTENSIONS


def _filename(url: str, text: str) -> str | None:
    """The link text if it ends in a known extension, else a name the query gives, else
    the path's last segment if it has a known extension."""
    if _extension(text) in KNOWN_EXTENSIONS:
        return text
    parts = urlsplit(url)
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        key = key.lower()
        if not value or (key not in _NAME_KEYS and key not in _PATH_KEYS):
            continue
        decoded = _decode_query_value(value)
        if key in _PATH_KEYS:
            decoded = decoded.rsplit("/", 1)[-1]
            if _extension(decoded) not in KNOWN_EXTENSIONS:
                continue
        if decoded.strip():
            return decoded.strip()
    last = unquote(parts.path).rsplit("/", 1)[-1]
    return last if _extension(last) in KNOWN_EXTENSIONS else None


def _decode_query_value(value: str) -> str:
    """A percent-encoded query value as text: UTF-8, else GBK (GB18030), the two
    encodings the sites use."""
    raw = unquote_to_bytes(value.replace("+", " "))
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _extension(name: str) -> str:
    """The lower-case extension of a file name or path (``''`` without one)."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or "/" in extension:
        return ""
    return extension.strip().lower()
