"""A wiki page shows only its own uploaded images: an address that starts like theirs but
climbs out of it (../, %2e%2e, a backslash) is removed, not followed by readers' browsers."""

import pytest

from courses import wiki

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(group_a, students):
    return wiki.save_page(group_a, students[0], "Instalação", "# Instalação")


@pytest.mark.parametrize(
    "tail",
    [
        "../../../../../../logout/",
        "1/../../../../other/wiki/p/images/1/",
        "%2e%2e/%2e%2e/%2e%2e/",
        "1/%2E%2E/%2E%2E/",
        "..\\..\\..\\",
        "1/?next=//evil.example",
        "1/#x",
        "1",
        "x/",
    ],
)
def test_an_image_address_that_leaves_the_page_s_images_is_removed(page, tail):
    src = page.images_url() + tail
    # Written as Markdown, and as raw HTML (kept, sanitized), which Markdown leaves as it is.
    assert "src=" not in wiki.render(f"![x]({src})", page)
    html = wiki.render(f'<img alt="x" src="{src}">', page)
    assert "<img" in html and "src=" not in html, html


def test_the_page_s_own_image_address_is_kept(page):
    src = page.images_url() + "12/"
    assert f'src="{src}"' in wiki.render(f"![x]({src})", page)
