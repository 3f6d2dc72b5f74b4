from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, with this project's site (mso_eval.admin_site) as ``admin.site``."""

    default_site = "mso_eval.admin_site.AdminSite"
