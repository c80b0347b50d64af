"""Order groups: the exchange-side kill switch (create, read, trigger, reset, delete, re-limit)."""

from __future__ import annotations

from kmm_tui.domain.prices import Count, format_count
from kmm_tui.kalshi.models import OrderGroup
from kmm_tui.kalshi.ratelimit import Priority
from kmm_tui.kalshi.rest.transport import NO_RETRY, RestTransport, _seg


class OrderGroups(RestTransport):
    """``/portfolio/order_groups...``. A group cancels its orders once too many contracts match."""

    async def create_order_group(self, contracts_limit: Count, exchange_index: int = 0) -> OrderGroup:
        """A group on ``exchange_index`` (the market's shard) that triggers after ``contracts_limit``
        matched contracts in 15 s. Not retried (a retry could create a second group)."""
        if contracts_limit <= 0:
            raise ValueError("contracts_limit must be a positive Count")
        body = {"contracts_limit_fp": format_count(contracts_limit), "exchange_index": exchange_index}
        data = await self._call(
            "POST", "/portfolio/order_groups/create", body=body, private=True, retry=NO_RETRY
        )
        group = OrderGroup.from_wire(data)
        # The create reply has no limit; the exchange accepted the one we sent.
        return OrderGroup(
            group.order_group_id,
            contracts_limit,
            group.is_auto_cancel_enabled,
            (),
            group.exchange_index if isinstance(data, dict) and "exchange_index" in data else exchange_index,
        )

    async def get_order_group(self, order_group_id: str) -> OrderGroup:
        data = await self._call("GET", f"/portfolio/order_groups/{_seg(order_group_id)}", private=True)
        return OrderGroup.from_wire(data, order_group_id)

    async def list_order_groups(self) -> list[OrderGroup]:
        out: list[OrderGroup] = []
        async for _, items in self._pages("/portfolio/order_groups", "order_groups", [], private=True):
            out.extend(OrderGroup.from_wire(item) for item in items)
        return out

    async def trigger_order_group(self, order_group_id: str) -> None:
        """Kill switch: cancel the group's orders and reject new ones until reset. Retried."""
        await self._call(
            "PUT",
            f"/portfolio/order_groups/{_seg(order_group_id)}/trigger",
            body={},
            private=True,
            priority=Priority.CANCEL,
        )

    async def reset_order_group(self, order_group_id: str) -> None:
        await self._call(
            "PUT", f"/portfolio/order_groups/{_seg(order_group_id)}/reset", body={}, private=True
        )

    async def delete_order_group(self, order_group_id: str) -> None:
        """Cancel the group's orders and remove it. Retried (deleting twice answers 404)."""
        await self._call(
            "DELETE",
            f"/portfolio/order_groups/{_seg(order_group_id)}",
            private=True,
            priority=Priority.CANCEL,
        )

    async def set_order_group_limit(self, order_group_id: str, contracts_limit: Count) -> None:
        """New limit (triggers at once if already above it)."""
        if contracts_limit <= 0:
            raise ValueError("contracts_limit must be a positive Count")
        await self._call(
            "PUT",
            f"/portfolio/order_groups/{_seg(order_group_id)}/limit",
            body={"contracts_limit_fp": format_count(contracts_limit)},
            private=True,
        )
