from django.contrib.auth import views as auth_views
from django.urls import path

from kepu.web import account_views, deliverable_views, plan_views, progress_views, views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", account_views.account, name="account"),
    path("account/password/", account_views.PasswordChange.as_view(), name="password_change"),
    path("plan/", views.plan_tree, name="plan_tree"),
    path("plan/versions/", plan_views.plan_versions, name="plan_versions"),
    path("plan/versions/diff/", plan_views.plan_version_diff, name="plan_version_diff"),
    path("plan/versions/<int:number>/", plan_views.plan_version, name="plan_version"),
    path("plan/versions/<int:number>/file/", plan_views.plan_version_file, name="plan_version_file"),
    path("districts/", plan_views.district_plan_list, name="district_plans"),
    path("districts/<str:code>/plan/", plan_views.district_plan, name="district_plan"),
    path("targets/<str:code>/", views.target_detail, name="target_detail"),
    path("targets/<str:code>/shares/", views.target_shares, name="target_shares"),
    path("report/", views.data_entry, name="data_entry"),
    path("report/template.xlsx", views.excel_template, name="excel_template"),
    path("report/upload/", views.excel_upload, name="excel_upload"),
    path("observations/<int:obs_id>/", views.observation_detail, name="observation_detail"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:obs_id>/", views.review, name="review"),
    path("inbox/approve/", views.inbox_approve, name="inbox_approve"),
    path("completeness/", views.completeness, name="completeness"),
    path("progress/", progress_views.progress_list, name="progress_list"),
    path("progress/tasks/<int:task_id>/", progress_views.progress_file, name="progress_file"),
    path("progress/<int:report_id>/", progress_views.progress_detail, name="progress_detail"),
    path("progress/<int:report_id>/review/", progress_views.progress_review, name="progress_review"),
    path("progress/<int:report_id>/evidence/<int:evidence_id>/", progress_views.progress_evidence,
         name="progress_evidence"),
    path("progress/review/", progress_views.progress_queue, name="progress_queue"),
    path("progress/overdue/", progress_views.progress_overdue, name="progress_overdue"),
    path("audit/", views.audit_log, name="audit_log"),
    path("assessment/", views.assessment_request, name="assessment_request"),
    path("assessment/<int:report_id>/", views.assessment_download, name="assessment_download"),
    path("assessment/<int:report_id>/retry/", views.assessment_retry, name="assessment_retry"),
]

urlpatterns += deliverable_views.urlpatterns
