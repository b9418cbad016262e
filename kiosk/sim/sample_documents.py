"""Sample documents for the emulated document camera, drawn with PIL, each marked 样本.

Nothing here is a real document or a real person: a fictional holder (王样本) with a number that
fails its check digit, drawn in the layout of the real thing so the page finder, the straightening
and the platform's checks see what they would see. A red 样本 / SAMPLE watermark crosses every
page. ``blurred_page`` is what an out-of-focus photograph looks like: the platform sends it back
as unreadable (补正).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from kiosk.fonts import cjk_font_path

HOLDER = "王样本"
NUMBER = "370921195001010000"  # the check digit is wrong on purpose: never anyone's number
PAPER = (250, 249, 244)
INK = (30, 30, 36)


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


def watermark(image: Image.Image) -> Image.Image:
    """Diagonal 样本 SAMPLE across the whole page, in translucent red."""
    w, h = image.size
    layer = Image.new("RGBA", (w * 2, h * 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(28, min(w, h) // 6)
    step_x, step_y = size * 8, size * 2
    for y in range(0, h * 2, step_y):
        for x in range(-(y // step_y % 2) * step_x // 2, w * 2, step_x):
            draw.text((x, y), "样本 SAMPLE", font=font(size), fill=(210, 30, 30, 90))
    layer = layer.rotate(28, resample=Image.Resampling.BICUBIC).crop((w // 2, h // 2, w // 2 + w, h // 2 + h))
    out = image.convert("RGBA")
    out.alpha_composite(layer)
    return out.convert("RGB")


def _page(size: tuple[int, int], colour: tuple[int, int, int] = PAPER) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", size, colour)
    return image, ImageDraw.Draw(image)


def id_card_front() -> Image.Image:
    image, d = _page((856, 540), (232, 240, 246))
    d.rounded_rectangle([4, 4, 851, 535], radius=30, outline=(150, 170, 190), width=3)
    rows = (("姓名", HOLDER), ("性别", "男　　民族　汉"), ("出生", "1950 年 1 月 1 日"),
            ("住址", "山东省泰安市宁阳县样本镇"), ("", "样本村1号"))
    for i, (label, value) in enumerate(rows):
        d.text((50, 50 + i * 62), label, font=font(30), fill=(70, 110, 150))
        d.text((150, 46 + i * 62), value, font=font(36), fill=INK)
    d.text((50, 440), "公民身份号码", font=font(30), fill=(70, 110, 150))
    d.text((270, 434), NUMBER, font=font(42), fill=INK)
    d.rectangle([620, 60, 800, 290], fill=(205, 215, 225))
    d.ellipse([665, 85, 755, 175], fill=(150, 160, 175))
    d.pieslice([630, 170, 790, 330], 180, 360, fill=(150, 160, 175))
    return watermark(image)


def id_card_back() -> Image.Image:
    image, d = _page((856, 540), (236, 242, 236))
    d.rounded_rectangle([4, 4, 851, 535], radius=30, outline=(150, 180, 160), width=3)
    d.ellipse([50, 40, 200, 190], outline=(200, 40, 40), width=8)
    d.regular_polygon((125, 115, 40), 5, fill=(220, 180, 40))
    d.text((260, 60), "中华人民共和国", font=font(56), fill=INK)
    d.text((260, 150), "居 民 身 份 证", font=font(64), fill=INK)
    d.text((120, 360), "签发机关　宁阳县公安局（样本）", font=font(32), fill=INK)
    d.text((120, 430), "有效期限　2016.01.01-2036.01.01", font=font(32), fill=INK)
    return watermark(image)


def hukou_home() -> Image.Image:
    image, d = _page((1000, 700))
    d.text((330, 40), "居 民 户 口 簿", font=font(58), fill=(120, 40, 30))
    d.rectangle([60, 150, 940, 640], outline=INK, width=3)
    rows = (("户别", "家庭户"), ("户主姓名", HOLDER), ("户号", "000000"), ("住址", "山东省泰安市宁阳县样本镇样本村1号"))
    for i, (label, value) in enumerate(rows):
        y = 150 + i * 122
        d.line([60, y, 940, y], fill=INK, width=2)
        d.text((90, y + 38), label, font=font(36), fill=INK)
        d.line([280, y, 280, y + 122], fill=INK, width=2)
        d.text((310, y + 38), value, font=font(36), fill=INK)
    return watermark(image)


def hukou_person() -> Image.Image:
    image, d = _page((1000, 700))
    d.text((300, 30), "常住人口登记卡", font=font(54), fill=(120, 40, 30))
    cells = (("姓名", HOLDER), ("与户主关系", "户主"), ("性别", "男"), ("出生日期", "1950年1月1日"),
             ("民族", "汉族"), ("籍贯", "山东宁阳"), ("公民身份号码", NUMBER), ("文化程度", "初中"),
             ("婚姻状况", "已婚"), ("服务处所", "样本"))
    for i, (label, value) in enumerate(cells):
        x, y = 60 + (i % 2) * 450, 130 + (i // 2) * 110
        d.rectangle([x, y, x + 440, y + 100], outline=INK, width=2)
        d.text((x + 15, y + 12), label, font=font(26), fill=(90, 90, 90))
        d.text((x + 15, y + 50), value, font=font(32), fill=INK)
    return watermark(image)


def bank_card() -> Image.Image:
    image, d = _page((856, 540), (40, 90, 150))
    d.rounded_rectangle([4, 4, 851, 535], radius=30, outline=(20, 60, 110), width=3)
    d.text((50, 40), "样本银行　借记卡", font=font(44), fill=(255, 255, 255))
    d.rounded_rectangle([60, 170, 180, 260], radius=12, fill=(220, 190, 90))
    d.text((60, 320), "6228 **** **** 0000", font=font(54), fill=(255, 255, 255))
    d.text((60, 430), HOLDER, font=font(36), fill=(255, 255, 255))
    return watermark(image)


def photo() -> Image.Image:
    image, d = _page((413, 579), (70, 140, 215))
    d.ellipse([126, 90, 286, 270], fill=(235, 200, 175))
    d.pieslice([46, 240, 366, 620], 180, 360, fill=(40, 40, 50))
    return watermark(image)


def _letter(title: str, paragraphs: tuple[str, ...], seal: str) -> Image.Image:
    image, d = _page((1240, 1754))
    d.text((620 - len(title) * 38, 140), title, font=font(76), fill=INK)
    y = 330
    for text in paragraphs:
        for start in range(0, len(text), 22):
            d.text((150, y), text[start:start + 22], font=font(40), fill=INK)
            y += 64
        y += 30
    d.ellipse([760, 1250, 1060, 1550], outline=(210, 30, 30), width=10)
    d.text((790, 1380), seal, font=font(34), fill=(210, 30, 30))
    d.text((720, 1600), "二〇二六年五月二十日", font=font(40), fill=INK)
    return watermark(image)


def separation() -> Image.Image:
    return _letter("解除劳动合同证明书", (
        f"{HOLDER}，公民身份号码{NUMBER}，于2020年3月1日至2026年5月20日在本单位工作，从事普工岗位。",
        "经双方协商一致，本单位与其于2026年5月20日解除劳动合同，特此证明。",
        "本证明书一式两份，单位和劳动者各执一份。"), "样本有限公司")


def diploma() -> Image.Image:
    image, d = _page((1600, 1130), (252, 248, 236))
    d.rectangle([30, 30, 1570, 1100], outline=(170, 120, 40), width=12)
    d.text((610, 120), "毕 业 证 书", font=font(84), fill=(120, 40, 30))
    for i, line in enumerate((f"学生 {HOLDER}，性别男，一九五〇年一月一日生，", "于二〇〇六年九月至二〇〇九年七月在本校",
                              "高中阶段学习，修完全部课程，成绩合格，准予毕业。")):
        d.text((200, 360 + i * 90), line, font=font(48), fill=INK)
    d.ellipse([1100, 720, 1400, 1020], outline=(210, 30, 30), width=10)
    d.text((1150, 850), "样本中学", font=font(44), fill=(210, 30, 30))
    return watermark(image)


def blurred_page() -> Image.Image:
    """A page photographed out of focus: the platform cannot read it."""
    return separation().filter(ImageFilter.GaussianBlur(14))


#: what the simulator panel offers: key -> (zh, en, draw)
SAMPLES: dict[str, tuple[str, str, Callable[[], Image.Image]]] = {
    "id_card_front": ("身份证人像面", "ID card, photo side", id_card_front),
    "id_card_back": ("身份证国徽面", "ID card, emblem side", id_card_back),
    "hukou_home": ("户口簿首页", "Household register, first page", hukou_home),
    "hukou_person": ("户口簿本人页", "Household register, your page", hukou_person),
    "bank_card": ("银行卡", "Bank card", bank_card),
    "photo": ("1寸证件照", "Passport-style photo", photo),
    "separation": ("解除劳动合同证明", "Proof the job ended", separation),
    "diploma": ("毕业证书", "Diploma", diploma),
    "blurred": ("拍虚了的材料", "An out-of-focus page", blurred_page),
}


@cache
def sample(key: str) -> Image.Image:
    return SAMPLES[key][2]()
