import pytest

from tests import factories


@pytest.fixture
def merchant(db):
    return factories.merchant()


@pytest.fixture
def terminal(merchant):
    return factories.terminal(merchant=merchant)


@pytest.fixture
def merchant_user(merchant):
    return factories.merchant_user(merchant=merchant)


@pytest.fixture
def other_merchant_user(db):
    return factories.merchant_user()


@pytest.fixture
def agent(db):
    return factories.agent()


@pytest.fixture
def editor(db):
    return factories.editor()


@pytest.fixture
def superuser(db):
    return factories.user(is_staff=True, is_superuser=True)
