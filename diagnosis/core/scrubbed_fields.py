"""Card masking at the storage boundary: model fields that never store a card number.

Every free-text column of both apps is one of these field types (tests/security/
test_model_fields_scrub.py walks every model and fails for a text column that is neither one
nor on its short allow-list). The value is scrubbed (diagnosis.core.cards.scrub_text; in JSON
every string inside) when the row is saved, bulk-created, bulk-updated or changed with
QuerySet.update(): admin, API, forms, management commands and the shell are all covered. The
instance attribute is replaced by the scrubbed value on save, so the object in hand tells the
truth too. Third-party models (admin log, axes, django-otp, auth groups) get the same rule from
one pre_save receiver (`THIRD_PARTY_SCRUBBED`).
"""

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models.signals import pre_save

from diagnosis.core.cards import scrub_value


class ScrubbedMixin:
    """Scrubs card numbers out of the value before it is written to the database."""

    scrubs_card_numbers = True

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        scrubbed = scrub_value(value)
        if scrubbed is not value and scrubbed != value:
            setattr(model_instance, self.attname, scrubbed)
        return scrubbed

    def get_db_prep_save(self, value, connection):
        # QuerySet.update() and bulk_update() do not call pre_save: scrub here as well.
        return super().get_db_prep_save(scrub_value(value), connection)


class ScrubbedCharField(ScrubbedMixin, models.CharField):
    pass


class ScrubbedTextField(ScrubbedMixin, models.TextField):
    pass


class ScrubbedEmailField(ScrubbedMixin, models.EmailField):
    pass


class ScrubbedJSONField(ScrubbedMixin, models.JSONField):
    pass


def scrub_instance(instance) -> None:
    """Scrub every scrubbed field of `instance` in place now (for save() methods that derive
    something from the texts, e.g. the search analysis, before the row is written)."""
    for field in instance._meta.concrete_fields:
        if getattr(field, "scrubs_card_numbers", False):
            value = getattr(instance, field.attname)
            scrubbed = scrub_value(value)
            if scrubbed is not value and scrubbed != value:
                setattr(instance, field.attname, scrubbed)


# Text columns of other apps' models that hold what someone typed or sent.
THIRD_PARTY_SCRUBBED = {
    "admin.logentry": ("object_repr", "change_message"),
    "auth.group": ("name",),
    "axes.accessattempt": (
        "username",
        "user_agent",
        "http_accept",
        "path_info",
        "get_data",
        "post_data",
    ),
    "axes.accesslog": ("username", "user_agent", "http_accept", "path_info"),
    "axes.accessfailurelog": ("username", "user_agent", "http_accept", "path_info"),
    "otp_totp.totpdevice": ("name",),
    "otp_static.staticdevice": ("name",),
    # Background task results (django-tasks-db): arguments, return values and tracebacks can
    # quote what a task worked on (the other columns are names set by code; scrubbing is free).
    "django_tasks_database.dbtaskresult": (
        "args_kwargs",
        "return_value",
        "traceback",
        "exception_class_path",
        "task_path",
        "worker_ids",
        "queue_name",
        "backend_name",
    ),
}


def scrub_third_party(sender, instance, **kwargs):
    names = THIRD_PARTY_SCRUBBED.get(sender._meta.label_lower)
    if not names:
        return
    for name in names:
        value = getattr(instance, name, None)
        if isinstance(value, str | dict | list):  # text, or JSON with text inside
            scrubbed = scrub_value(value)
            if scrubbed != value:
                setattr(instance, name, scrubbed)


def connect_third_party() -> None:
    """Called from DiagnosisConfig.ready()."""
    for label in THIRD_PARTY_SCRUBBED:
        app_label, model_name = label.split(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        pre_save.connect(scrub_third_party, sender=model, dispatch_uid=f"scrub-{label}")


def rescrub_rows(model, *, chunk: int = 2000) -> list:
    """Scrub the rows of `model` stored before its text columns scrubbed (or written around
    the ORM): only changed rows are written. Used by migrations; returns the changed pks. A
    unique column whose masked value is taken already gets a suffix (it held a card number)."""
    fields = [f for f in model._meta.concrete_fields if getattr(f, "scrubs_card_numbers", False)]
    if not fields:
        return []
    names = [f.attname for f in fields]
    unique = {f.attname for f in fields if f.unique}
    changed = []
    last = None
    while True:
        rows = model._base_manager.order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        rows = list(rows.values_list("pk", *names)[:chunk])
        if not rows:
            return changed
        for pk, *values in rows:
            update = {}
            for name, value in zip(names, values, strict=True):
                scrubbed = scrub_value(value)
                if scrubbed != value:
                    update[name] = scrubbed
            if not update:
                continue
            try:
                with transaction.atomic():
                    model._base_manager.filter(pk=pk).update(**update)
            except IntegrityError:
                for name in unique & set(update):
                    update[name] = f"{update[name]} #{pk}"
                model._base_manager.filter(pk=pk).update(**update)
            changed.append(pk)
        last = rows[-1][0]


def rescrub_app(app_label: str, after=None):
    """A RunPython operation body: rescrub every model of `app_label` (historical models);
    `after(apps, {model_name: changed pks})` runs next (e.g. to analyse changed texts again)."""

    def run(apps, schema_editor):
        changed = {}
        for model in apps.get_app_config(app_label).get_models():
            changed[model._meta.model_name] = rescrub_rows(model)
        if after is not None:
            after(apps, changed)

    return run
