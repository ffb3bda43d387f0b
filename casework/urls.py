from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("assessments", api.AssessmentViewSet, basename="assessment")
router.register("plans", api.PlanViewSet, basename="plan")
router.register("goals", api.GoalViewSet, basename="goal")
router.register("actions", api.ActionViewSet, basename="action")
router.register("reviews", api.ReviewViewSet, basename="review")
router.register("closures", api.ClosureViewSet, basename="closure")
router.register("clients", api.CaseClientViewSet, basename="casework-client")

urlpatterns = router.urls
