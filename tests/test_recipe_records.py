"""The recipes' records are the one place a recipe is declared: every recipe folder has one and
is enabled, routes are not declared twice, and the settings models each record names make up
``Settings`` without a field defined twice."""

from __future__ import annotations

import pkgutil

import tokenward.recipes
from tokenward.app.recipes import RECIPES
from tokenward.config import Settings
from tokenward.config.email import EmailSettings
from tokenward.config.encryption import EncryptionSettings
from tokenward.config.hashing import PasswordHashingSettings
from tokenward.config.server import ServerSettings
from tokenward.config.sms import SmsSettings
from tokenward.shared.rate_limits.settings import RateLimitSettings

SHARED_MODELS = (
    ServerSettings,
    RateLimitSettings,
    PasswordHashingSettings,
    EmailSettings,
    SmsSettings,
    EncryptionSettings,
)


def test_every_recipe_folder_has_an_enabled_record() -> None:
    folders = {m.name for m in pkgutil.iter_modules(tokenward.recipes.__path__) if m.ispkg}
    assert folders == {record.recipe_id for record in RECIPES}
    assert len(RECIPES) == len(folders)


def test_no_route_is_declared_twice() -> None:
    frontend = [(r.method, r.path, r.absolute) for record in RECIPES for r in record.frontend]
    core = [(r.method, r.path) for record in RECIPES for r in record.core]
    assert len(frontend) == len(set(frontend))
    assert len(core) == len(set(core))


def test_the_settings_models_make_up_settings_and_own_their_fields_alone() -> None:
    models = [record.settings for record in RECIPES if record.settings is not None]
    models += SHARED_MODELS
    assert set(models) == set(Settings.__bases__) - {Settings.__bases__[-1]}
    owned = [name for model in models for name in model.model_fields]
    assert len(owned) == len(set(owned)), "a field is defined in two models"
    assert set(owned) == set(Settings.model_fields)


def test_each_claim_belongs_to_one_recipe() -> None:
    keys = [claim.key for record in RECIPES for claim in record.claims]
    assert sorted(keys) == ["st-ev", "st-perm", "st-role"]
