"""The public knowledge pages: home and search, response codes, categories, articles (and
their votes), bank announcements."""

from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("search/open/", views.search_open, name="search_open"),
    path("codes/", views.code_list, name="code_list"),
    path("codes/<str:code>/", views.code_detail, name="code_detail"),
    path("categories/<slug:key>/", views.category_detail, name="category_detail"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("articles/<slug:slug>/vote/", views.article_vote, name="article_vote"),
    path("announcements/", views.announcement_list, name="announcement_list"),
    path("announcements/<int:pk>/", views.announcement_detail, name="announcement_detail"),
]
