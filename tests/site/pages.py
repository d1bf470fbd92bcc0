"""Page bodies the test site serves: documents, block/challenge pages, soft-404s.

Modelled on real pages (see /work/shared/pages/README.md): the 瑞数 page is the
nmpa.gov.cn excerpt itself (templates/ruishu_412.html); the 加速乐 and 云锁 pages
follow the shape of those products' first answers. Each builder returns bytes in
the requested encoding, because government pages come in UTF-8 and GBK.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"

_CHROME = """
<div class="top"><a href="/">网站首页</a> | <a href="#">设为首页</a> | <a href="#">加入收藏</a>
| <a href="#">长辈版</a> | <a href="#">无障碍浏览</a></div>
<div class="nav"><ul><li>首页</li><li>政务公开</li><li>政务服务</li><li>互动交流</li>
<li>走进宣城</li></ul></div>
"""

_PARAGRAPH = (
    "按照市政府工作报告任务分工，我局牵头负责推进数字政府建设，"
    "加快政务数据共享交换，完善一体化政务服务平台功能，"
    "截至本季度末已完成年度目标任务的百分之七十五。"
)


def ruishu_challenge() -> bytes:
    """Return the head of nmpa.gov.cn's 瑞数 challenge page (served with HTTP 412)."""
    return (TEMPLATES / "ruishu_412.html").read_bytes()


def jiasule_challenge() -> bytes:
    """Return a 加速乐 first answer: a script that assembles and sets ``__jsl_clearance``.

    Served with HTTP 521 and ``Set-Cookie: __jsluid_h=…``; the cookie name is
    built from fragments, as the real product does.
    """
    return (
        b"<html><body><script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')"
        b"+('c')+('l')+('e')+('a')+('r')+('a')+('n')+('c')+('e')+('=')"
        b"+(-~[]+[]+[[]][0])+('.')+(1+[0])+('|-1|')+(-~[]);"
        b"location.href=location.pathname+location.search</script></body></html>"
    )


def yunsuo_challenge() -> bytes:
    """Return a 云锁 verification page (``security_session_verify`` + ``YunSuoAutoJump``)."""
    return (
        b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=utf-8'>"
        b"</head><body><script type='text/javascript'>function YunSuoAutoJump(){ "
        b"self.location = '/index.html?security_verify_data=313932302c31303830'; }"
        b"</script><script>setTimeout(function(){YunSuoAutoJump()},50);</script>"
        b"</body></html>"
    )


def waf_403(encoding: str = "utf-8") -> bytes:
    """Return a 安全狗-style 403 block page."""
    html = (
        '<html><head><meta charset="{enc}"><title>网站防火墙</title></head><body>'
        "<h1>您的请求带有不合法参数，已被网站管理员设置拦截！</h1>"
        "<p>可能原因：您提交的内容包含危险的攻击请求</p></body></html>"
    )
    return html.format(enc=encoding).encode(encoding)


def soft_404(
    encoding: str = "utf-8", *, message: str = "对不起，您访问的页面不存在或已被删除！"
) -> bytes:
    """Return a site-chrome page whose only message says the document is gone (HTTP 200)."""
    html = (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" '
        'content="text/html; charset={enc}"><title>宣城市人民政府</title></head><body>'
        '{chrome}<div class="error"><p>{msg}</p><a href="/">返回首页</a></div>'
        "<script>var s = 5; setInterval(function(){{ s--; }}, 1000);</script></body></html>"
    )
    return html.format(enc=encoding, chrome=_CHROME, msg=message).encode(encoding)


def document(
    title: str = "2021年度三季度政府工作报告任务进展情况",
    *,
    text_bytes: int = 40_000,
    encoding: str = "utf-8",
    extra: str = "",
) -> bytes:
    """Return a detail page of about ``text_bytes`` bytes of body text in ``encoding``.

    ``extra`` is inserted in the body text (e.g. a sentence mentioning 已删除).
    """
    paragraphs: list[str] = [f"<p>{extra}</p>"] if extra else []
    size = len(extra.encode(encoding))
    n = 0
    while size < text_bytes:
        n += 1
        paragraph = f"任务{n}、{_PARAGRAPH}"
        paragraphs.append(f"<p>{paragraph}</p>")
        size += len(paragraph.encode(encoding))
    html = (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" '
        'content="text/html; charset={enc}"><title>{title}</title></head><body>{chrome}'
        '<div class="j-fontContent">{body}</div></body></html>'
    )
    return html.format(
        enc=encoding, title=title, chrome=_CHROME, body="\n".join(paragraphs)
    ).encode(encoding)


@cache
def gzip_bomb(decompressed_size: int) -> bytes:
    """Return a gzip stream of ``decompressed_size`` zero bytes (about 1/1000 the size)."""
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    parts: list[bytes] = []
    remaining = decompressed_size
    while remaining > 0:
        piece = chunk if remaining >= len(chunk) else chunk[:remaining]
        parts.append(compressor.compress(piece))
        remaining -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)
