import pytest
from django.urls import reverse

from partners.models import MSOService, ServiceArea
from tests.partners.factories import affiliate, make_mso, make_practice

from .conftest import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mso():
    mso = make_mso(specialties="Oral and maxillofacial surgery, Pediatric dentistry")
    MSOService.objects.bulk_create(
        MSOService(mso=mso, area=area, detail="Practice management software, imaging, IT help.")
        for area in ServiceArea.values
    )
    for i in range(3):
        affiliate(make_practice(f"P-{i}"), mso)
    return mso


@pytest.mark.parametrize(("screen", "width"), [("desktop", 1280), ("phone", 390)])
def test_mso_change_page_fits_the_screen(request, live_server, data_admin, mso, screen, width):
    page = request.getfixturevalue(screen)
    log_in(page, live_server, "dataadmin")
    page.goto(f"{live_server.url}{reverse('admin:partners_mso_change', args=[mso.pk])}")
    assert page.locator("#services-group tbody tr.has_original").count() == len(ServiceArea)
    # The service details are one line each, not a text area per row.
    assert page.locator("#services-group textarea").count() == 0
    shoot(page, "admin-mso-change")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
