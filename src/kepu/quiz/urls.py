from django.urls import path

from kepu.quiz import views

app_name = "quiz"

urlpatterns = [
    path("me/quiz/", views.daily, name="daily"),
    path("me/quiz/contests/", views.contests, name="contests"),
    path("me/quiz/contests/<int:contest_id>/", views.contest_home, name="contest"),
    path("me/quiz/contests/<int:contest_id>/play/", views.contest_play, name="contest_play"),
    path("quiz/contests/", views.staff_contests, name="staff_contests"),
    path("quiz/contests/<int:contest_id>/", views.staff_contest, name="staff_contest"),
    path("quiz/stats/", views.staff_stats, name="staff_stats"),
    path("quiz/daily/", views.staff_daily, name="staff_daily"),
    path("quiz/daily/export.<str:fmt>", views.staff_daily_export, name="staff_daily_export"),
]
