from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("programmes", api.ProgrammeViewSet, basename="programme")
router.register("sessions", api.SessionViewSet, basename="programmesession")
router.register("enrolments", api.EnrolmentViewSet, basename="enrolment")

urlpatterns = router.urls
