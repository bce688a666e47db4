from tests.permissions.conftest import (  # noqa: F401  (the same personas)
    alpha,
    beta,
    client_for,
    cluster_admin,
    member,
    owner,
    staff,
    viewer,
    vm1,
    vm2,
)
