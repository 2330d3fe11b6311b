"""Each views module of this app declares its own urlpatterns; they are joined here."""

from baosong.scoring import views_decisions, views_history, views_rankings, views_schemes

urlpatterns = [
    *views_schemes.urlpatterns,
    *views_rankings.urlpatterns,
    *views_history.urlpatterns,
    *views_decisions.urlpatterns,
]
