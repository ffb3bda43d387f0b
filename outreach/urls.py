from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("visits", api.VisitViewSet, basename="visit")
router.register("meetings", api.MeetingViewSet, basename="meeting")
router.register("services", api.ServiceRecordViewSet, basename="servicerecord")
router.register("incidents", api.IncidentViewSet, basename="incident")

urlpatterns = router.urls
