"""An order service on ``ResourceView`` alone: customers, products, orders, actions, transitions.

- ``/api/v1/customers``, ``/api/v1/products``: generated CRUD; ``POST /products/<id>/reserve``
  takes stock atomically (a conditional ``$inc``: never below zero, whatever the concurrency).
- ``/api/v1/orders``: line items referencing products (``REFERENCES``: 422 for an unknown or
  deleted customer or product; ``$expand`` on reads), prices copied at creation, a
  ``status`` that only moves ``pending -> paid -> shipped`` or ``pending -> cancelled``
  (``TRANSITIONS``, also on PATCH/PUT), the ``pay``/``ship``/``cancel`` actions and the
  ``GET /orders/report`` daily sales report (``aggregate()``: deleted and foreign orders never
  count). Prices and totals are ``Decimal`` (stored as Decimal128, sent as exact strings).
  With auth on, orders are row-level: a user sees and acts on their own orders only (404 for
  anyone else's).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any, ClassVar

import marshmallow as ma
from flask_smorest import Blueprint

from rainbond_kit import ConflictError, ResourceView, action, get_container, object_id
from rainbond_kit.auth import Code

#: The permissions this part of the component registers in the auth center (when auth is on).
CENTER_NAME = "订单中心"
SHOP, ORDERS = "商品管理", "订单管理"
#: a component-defined code: shipping an order
SHIP = 32
PER_DEFAULTS: list[dict[str, Any]] = [
    {"session_key": "auth_shop", "center_name": CENTER_NAME, "permission_name": SHOP,
     "status": [0, 1, 2, 4, 8]},
    {"session_key": "auth_orders", "center_name": CENTER_NAME, "permission_name": ORDERS,
     "status": [0, 1, 2, 4, 8, SHIP]},
]  # fmt: skip


class OrderStatus(enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class CustomerSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    email = ma.fields.Email()


class ProductSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    price = ma.fields.Decimal(
        required=True, places=2, as_string=True, validate=ma.validate.Range(min=0)
    )
    stock = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=10**9))


class QuantitySchema(ma.Schema):
    quantity = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10**6)
    )


class LineSchema(ma.Schema):
    product_id = ma.fields.String(required=True, validate=ma.validate.Regexp("^[0-9a-f]{24}$"))
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=10**6))
    #: copied from the product when the order is created
    price = ma.fields.Decimal(places=2, as_string=True, dump_only=True)


class OrderSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, validate=ma.validate.Regexp("^[0-9a-f]{24}$"))
    items = ma.fields.List(
        ma.fields.Nested(LineSchema), required=True, validate=ma.validate.Length(min=1, max=100)
    )
    #: every order starts ``pending``; see ``Orders.TRANSITIONS``
    status = ma.fields.Enum(OrderStatus, by_value=True, load_default=OrderStatus.PENDING)
    note = ma.fields.String(validate=ma.validate.Length(max=500))
    total = ma.fields.Decimal(places=2, as_string=True, dump_only=True)
    payment = ma.fields.String(dump_only=True)


class OrderUpdateSchema(ma.Schema):
    """What PUT/PATCH may change: lines and prices are fixed once the order exists."""

    status = ma.fields.Enum(OrderStatus, by_value=True, required=True)
    note = ma.fields.String(validate=ma.validate.Length(max=500))


class PaySchema(ma.Schema):
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(["card", "cash"]))


class DaySchema(ma.Schema):
    day = ma.fields.Date(required=True, metadata={"example": "2026-11-30"})


class ReportSchema(ma.Schema):
    day = ma.fields.Date()
    #: paid and shipped orders created that day (UTC), and their total
    orders = ma.fields.Integer()
    total = ma.fields.Decimal(places=2, as_string=True)


class Customers(ResourceView):
    """Customers of the shop."""

    COLLECTION = "customers"
    SCHEMA = CustomerSchema


class Products(ResourceView):
    """The product catalogue, with prices and stock."""

    COLLECTION = "products"
    SCHEMA = ProductSchema

    @action("reserve", code=Code.EDIT, body=QuantitySchema)
    def reserve(self, doc: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """Take stock of a product (409 when not enough is left).

        One conditional ``$inc``: concurrent reservations never take more than there is.
        """
        quantity = data["quantity"]
        taken = self.repository.increment(
            {"$and": [{"_id": object_id(doc["id"]), "stock": {"$gte": quantity}},
                      self.scope_filter() or {}]},
            {"stock": -quantity},
        )  # fmt: skip
        if not taken.matched_count:
            raise ConflictError(f"not enough stock: {quantity} asked", extra={"field": "stock"})
        return self.read_current(doc["id"])


class Orders(ResourceView):
    """Orders: line items of products, paid, shipped or cancelled."""

    COLLECTION = "orders"
    SCHEMA = OrderSchema
    UPDATE_SCHEMA = OrderUpdateSchema
    REFERENCES: ClassVar[dict[str, type[ResourceView]]] = {
        "customer_id": Customers,
        "items.product_id": Products,
    }
    ETAG = True
    TRANSITIONS: ClassVar[dict[str, dict[Any, list[Any]]]] = {
        "status": {
            OrderStatus.PENDING: [OrderStatus.PAID, OrderStatus.CANCELLED],
            OrderStatus.PAID: [OrderStatus.SHIPPED],
        }
    }

    def before_insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Every order starts pending; prices come from the products, never from the client.

        ``REFERENCES`` already checked that the customer and every product exist.
        """
        products = get_container().repository(collection=Products.COLLECTION)
        ids = list(dict.fromkeys(line["product_id"] for line in doc["items"]))
        prices = {p["id"]: decimal.Decimal(p["price"]) for p in products.get_many(ids)}
        for line in doc["items"]:
            line["price"] = prices[line["product_id"]]
        doc["total"] = sum(
            (line["price"] * line["quantity"] for line in doc["items"]), start=decimal.Decimal(0)
        )
        doc["status"] = OrderStatus.PENDING
        return doc

    def before_update(
        self, changes: dict[str, Any], *, partial: bool, current: dict[str, Any]
    ) -> dict[str, Any]:
        """A shipped or cancelled order is closed: its note no longer changes (409)."""
        closed = current["status"] in (OrderStatus.SHIPPED.value, OrderStatus.CANCELLED.value)
        if closed and "note" in changes and changes["note"] != current.get("note"):
            raise ConflictError("the order is closed", extra={"field": "note"})
        return changes

    @action("pay", code=Code.EDIT, body=PaySchema)
    def pay(self, doc: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """Pay a pending order."""
        return self.transition(doc, "status", OrderStatus.PAID, payment=data["method"])

    @action("ship", code=SHIP)
    def ship(self, doc: dict[str, Any], data: None) -> dict[str, Any]:
        """Ship a paid order (needs the ship code, 32)."""
        return self.transition(doc, "status", OrderStatus.SHIPPED)

    @action("cancel", code=Code.EDIT)
    def cancel(self, doc: dict[str, Any], data: None) -> dict[str, Any]:
        """Cancel a pending order."""
        return self.transition(doc, "status", OrderStatus.CANCELLED)

    @action("report", item=False, method="GET", args=DaySchema, response=ReportSchema)
    def report(self, data: dict[str, Any]) -> dict[str, Any]:
        """Paid and shipped orders of one day (UTC): how many, and their total.

        Only orders the caller may see count; deleted orders never do.
        """
        start = dt.datetime.combine(data["day"], dt.time(), tzinfo=dt.timezone.utc)
        created: dict[str, Any] = {"$gte": start}
        if data["day"] < dt.date.max:  # the calendar's last day has no next midnight
            created["$lt"] = start + dt.timedelta(days=1)
        sold = [OrderStatus.PAID.value, OrderStatus.SHIPPED.value]
        rows = self.aggregate(
            [
                {"$match": {"status": {"$in": sold}, "creation_time": created}},
                {"$group": {"_id": None, "orders": {"$sum": 1}, "total": {"$sum": "$total"}}},
            ]
        )  # fmt: skip
        row = rows[0] if rows else {"orders": 0, "total": "0"}
        return {"day": data["day"], "orders": row["orders"], "total": decimal.Decimal(row["total"])}


def _secured(
    cls: type[ResourceView], permission: str, row_level: bool, **attrs: Any
) -> type[ResourceView]:
    attrs.update({"PERMISSION": (CENTER_NAME, permission), "__doc__": cls.__doc__})
    if row_level:
        attrs["ROW_LEVEL_FIELD"] = "creator"
    return type(cls.__name__, (cls,), attrs)


def make_blueprint(*, secured: bool = False) -> Blueprint:
    """Customers, products and orders; ``secured`` puts them behind the auth center."""
    blueprint = Blueprint("orders", __name__, url_prefix="/api/v1", description="Orders")
    customers, products, orders = Customers, Products, Orders
    if secured:  # references then check the caller's view code on customers and products
        customers = _secured(Customers, SHOP, False)
        products = _secured(Products, SHOP, False)
        references = {"customer_id": customers, "items.product_id": products}
        orders = _secured(Orders, ORDERS, True, REFERENCES=references)
    for view, url in ((customers, "/customers"), (products, "/products"), (orders, "/orders")):
        view.register(blueprint, url, name=view.__name__)
    return blueprint
