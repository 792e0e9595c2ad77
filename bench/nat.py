"""The NAT part of `make bench` (`bench/run.py --only nat`): calls through the simulated internet of
suites/e2e/test_nat.py, direct and through coturn, against two pages relayed through the same coturn."""

from pathlib import Path

from run import BenchError, Browser, Results, wait_for

NAT_LAN_PAGE = "http://10.71.1.2:8080/"  # the door's page as the NAT suite's home namespace reaches it
NAT_PUBLIC_PAGE = "http://100.64.0.2:8080"  # and through the home router's port forward
NAT_FIRST_FRAME_TIMEOUT = 40  # seconds; the NAT suite's ICE bound is 10 s, the rest is a loaded machine


def nat_join(nat, door, phone):
    """One ring of `door` (in the NAT suite's home namespace) joined by `phone` (this thread is in the mobile
    namespace): #join click → first remote picture, then the page hangs up and the door goes idle."""
    link = nat.ring(door)
    phone.configure()
    phone.driver.get(link)
    phone.wait_state("ready")
    phone.js("__bench.join();")
    millis = phone.wait_first_frame(NAT_FIRST_FRAME_TIMEOUT) - phone.js("return __bench.joinAt;")
    phone.wait_state("in-call")
    phone.hang_up()
    wait_for(lambda: door.state()["phase"] == "idle", 20, "the door to be idle after the call", interval=0.1)
    return millis


def nat_pages_join(internet, host, phone):
    """The baseline: a page on the door's LAN (`host`, in the home namespace) creates a room and auto-answers;
    `phone` joins it; both pages use relay candidates only, so the call goes through the same coturn."""
    with internet.entered(internet.home):
        host.configure(autoAnswer=True, relay=True)
        host.driver.get(NAT_LAN_PAGE)
        host.wait_state("ready")
        host.js("document.getElementById('create').click();")
        host.wait_state("hosting")
        link = host.js("return document.getElementById('room-link').href;")
    phone.configure(relay=True)
    phone.driver.get(link.replace(NAT_LAN_PAGE.rstrip("/"), NAT_PUBLIC_PAGE, 1))
    phone.wait_state("ready")
    phone.js("__bench.join();")
    try:
        millis = phone.wait_first_frame(NAT_FIRST_FRAME_TIMEOUT) - phone.js("return __bench.joinAt;")
    except BenchError as error:
        with internet.entered(internet.home):
            host_state = host.state()
        status = phone.js("const s = document.getElementById('status'); return s ? s.textContent : null;")
        raise BenchError(f"{error}; phone page {phone.state()!r} ({status!r}), host page {host_state!r}") from error
    phone.wait_state("in-call")
    phone.hang_up()
    with internet.entered(internet.home):
        wait_for(lambda: host.state() != "in-call", 10, "the host page to notice the hang-up", interval=0.05)
    return millis


def bench_nat_only(scratch, calls):
    """`--only nat`: the NAT suite's simulated internet (suites/e2e/test_nat.py). Join click → first frame from
    a phone behind the carrier NAT: direct (cone NATs, STUN) and through coturn (symmetric NAT, TURN with the
    door's minted credentials); baseline: two pages calling each other relayed through the same coturn."""
    import test_nat as nat  # noqa: PLC0415  (needs suites/e2e on the path, as conftest does)

    internet = nat.Internet()
    joins = {"direct": [], "turn": [], "pages": []}
    failed = {"direct": 0, "turn": 0, "pages": 0}

    def attempt(path, index, join):
        # A call that never shows a picture is counted and reported, not hidden; the next one starts afresh.
        try:
            joins[path].append(join())
            print(f"  {path} call {index + 1}: {joins[path][-1]:.0f} ms", flush=True)
        except BenchError as error:
            failed[path] += 1
            print(f"  ! {path} call {index + 1} failed: {error}", flush=True)
    try:
        internet.build()
        nat.start_turn(internet, Path(scratch))
        flags = [f"--unsafely-treat-insecure-origin-as-secure={nat.PAGE_URL},{nat.LAN_URL}"]
        with internet.entered(internet.mob):
            phone = Browser(scratch, "nat-phone", flags)
        with internet.entered(internet.home):
            host = Browser(scratch, "nat-host", flags)
        try:
            for path, symmetric, ice in (("direct", False, nat.STUN), ("turn", True, nat.TURN_UDP)):
                internet.set_mobile_nat(symmetric=symmetric, udp=True)
                directory = Path(scratch) / f"door-{path}"
                directory.mkdir()
                door = nat.Door(internet, directory, ice)
                try:
                    with internet.entered(internet.mob):
                        for index in range(calls):
                            attempt(path, index, lambda: nat_join(nat, door, phone))
                        if path == "turn":
                            for index in range(calls):
                                attempt("pages", index, lambda: nat_pages_join(internet, host, phone))
                    if path == "turn":
                        local, remote = nat.door_pair(door)
                        if "relay" not in (local, remote):
                            raise BenchError(f"the TURN calls did not go through the relay: door {local}/{remote}")
                    else:
                        local, remote = nat.door_pair(door)
                        if "relay" in (local, remote):
                            raise BenchError(f"the direct calls went through the relay: door {local}/{remote}")
                finally:
                    internet.stop(door.process)
        finally:
            with internet.entered(internet.mob):
                phone.quit()
            with internet.entered(internet.home):
                host.quit()
    finally:
        internet.teardown()
    results = Results()
    baseline = f"page calling another page relayed through the same coturn ({failed['pages']} failed)"
    results.add("nat_join_click_direct", "Join click → first frame, phone behind cone NATs (STUN, direct)", "ms",
                joins["direct"], baseline, joins["pages"], f"{failed['direct']} of {calls} calls failed")
    results.add("nat_join_click_turn", "Join click → first frame, phone behind a symmetric NAT (through TURN)", "ms",
                joins["turn"], baseline, joins["pages"], f"{failed['turn']} of {calls} calls failed")
    print(f"failed calls: direct {failed['direct']}, through TURN {failed['turn']}, page↔page {failed['pages']}"
          f" (of {calls} each)", flush=True)
    return results
