"""A payment whose outcome was lost is settled by the terminal itself, at its next start."""

from __future__ import annotations

from kiosk.bootstrap import bootstrap
from kiosk.services.payment_order import pending_unconfirmed
from kiosk.tours.scripted import ScriptedKiosk
from tests.integration.test_payments import orders_at_backend, start_bill
from tests.support import wait_for


def test_a_restarted_terminal_settles_what_it_left_unconfirmed(scripted, reference_backend, kiosk_config):
    _item, flow, _charge = start_bill(scripted, "water", "zhang_xiuying")
    view = flow.start_payment()
    reference_backend.mark_paid(view.order_no)  # paid on the phone...
    reference_backend.faults.set("drop", path_prefix="/v1/orders/")  # ...but the answer is lost
    flow.unknown_grace_s = 0.3
    outcome = flow.wait(timeout=15, interval=0.2)
    assert outcome.title_zh == "支付结果确认中"
    assert [r["transaction_no"] for r in pending_unconfirmed(scripted.kiosk.journal)] == [flow.txn]
    scripted.stop()  # the watchdog restarts the kiosk while the network is still down...
    reference_backend.faults.clear()  # ...and it comes back

    restarted = ScriptedKiosk(bootstrap(kiosk_config)).start()
    try:
        wait_for(lambda: pending_unconfirmed(restarted.kiosk.journal) == [], 20, "the payment to be settled")
    finally:
        restarted.stop()
    assert orders_at_backend(reference_backend) == [(view.order_no, "paid", view.amount_fen)]  # one order, paid once
