from django.urls import path

from kepu.funding import views

app_name = "funding"

urlpatterns = [
    path("funding/", views.budget_page, name="budgets"),
    path("funding/budgets.xlsx", views.budget_export, name="export"),
    path("funding/spending.xlsx", views.spending_export, name="export_spending"),
    path("funding/fund.xlsx", views.fund_export, name="export_fund"),
    path("funding/budgets/<int:budget_id>/", views.budget_detail, name="budget"),
    path("funding/fund/", views.fund_page, name="fund"),
    path("funding/fund/applications/<int:application_id>/", views.application_detail, name="application"),
]
