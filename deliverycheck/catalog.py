"""The one specification the tool checks, assembled from model/ and properties/."""

from __future__ import annotations

from deliverycheck.core.spec import Spec
from deliverycheck.model import ACTIONS, FAULT_FIELDS, init, schema, settled
from deliverycheck.model.scene import SCENE
from deliverycheck.model.story import describe
from deliverycheck.properties import PROPERTIES

SPEC = Spec(
    name="kafka-delivery",
    schema=schema,
    init=init,
    actions=ACTIONS,
    properties=PROPERTIES,
    finished=settled,
    describe=describe,
    scene=SCENE,
    fault_fields=FAULT_FIELDS,
)
