from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, on a site whose login has tokenAuth's protections (accounts/admin_site.py)."""

    default_site = "accounts.admin_site.AdminSite"
