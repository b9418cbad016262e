"""Every picture the screens ask for exists in the icon font, and every item has one."""

from fontTools.ttLib import TTFont

from kiosk.services.catalogue import Category, load_catalogue
from kiosk.widgets import icons


def test_every_named_icon_is_a_glyph_of_the_shipped_font():
    cmap = TTFont(str(icons.ICON_FONT)).getBestCmap()
    names = {*icons.CATEGORIES.values(), *icons.ITEMS.values(), *icons.CHROME.values(), *icons.LEVELS.values()}
    missing = sorted(n for n in names if not icons.glyph(n) or ord(icons.glyph(n)) not in cmap)
    assert missing == []


def test_every_catalogue_item_and_category_has_a_picture():
    catalogue = load_catalogue()
    assert all(icons.for_category(c.value) for c in Category)
    assert all(icons.for_item(i.id, i.category.value) for i in catalogue.items)
    assert set(icons.ITEMS) <= {i.id for i in catalogue.items}  # no picture for an item that is gone


def test_the_five_rating_faces_are_five_different_glyphs():
    assert len({icons.level(n) for n in (1, 2, 3, 4, 5)}) == 5


def test_an_unknown_name_draws_nothing_rather_than_a_wrong_picture():
    assert icons.glyph("no-such-icon") == ""
