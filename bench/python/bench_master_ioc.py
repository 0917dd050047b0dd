#!/usr/bin/env python3
"""Measure OpenCTI's Python Kaspersky connector on a Master IoC file (issue #7).

This is the Python side of the side-by-side comparison: it runs the Python
connector's own Master IoC importer (``kaspersky.master_ioc.importer``) and
pycti's own ``OpenCTIConnectorHelper.send_stix2_bundle`` on one CSV file, with
no OpenCTI platform, no RabbitMQ and no Kaspersky TIP. Only the edges are
replaced:

* the TIP client: ``get_master_ioc`` hands back the file through the
  connector's own base64+gzip decoding, as the real client does with the API
  answer (the file is encoded before the clock starts);
* the helper: a stand-in object that borrows pycti's real ``send_stix2_bundle``
  and ``_send_bundle`` methods and supplies the attributes they read (queue on,
  AMQP protocol, no directory/S3 copy, no validation, no draft, no playbook);
* the broker: ``pika.BlockingConnection`` is a stand-in whose channel counts
  and drops each published body, and ``api.work.add_expectations`` only counts.

So every split bundle is built, base64-encoded and wrapped in its JSON message
body exactly as pycti does it, and thrown away instead of being published.

The clock covers the importer's ``start(work_id, {})``: CSV parsing and the
pydantic models, filtering, grouping by publication, the STIX objects and
bundle per group, bundle serialisation, splitting and message bodies. It
leaves out interpreter start-up, imports, reading the file and the HTTP
transfer. Peak RSS is the process's ``ru_maxrss`` and so includes the
interpreter, pycti and the file itself; ``baseline_rss_mb`` is the same figure
taken just before the clock starts.

Prints one JSON line on standard output.
"""

import argparse
import base64
import csv
import gzip
import json
import platform
import resource
import sys
import time
from pathlib import Path

WORK_ID = "work_bench-master-ioc"
APPLICANT_ID = "88ec0c6a-13ce-5e39-b486-354fe4a7084f"


class FakeMetric:
    """Counts what the importer and pycti report as metrics."""

    def __init__(self):
        self.counts = {}

    def inc(self, name, n=1):
        self.counts[name] = self.counts.get(name, 0) + n

    def state(self, _name):
        pass


class FakeLogger:
    """Swallows pycti's connector_logger calls (a real run logs at error level)."""

    def __init__(self):
        self.errors = 0

    def debug(self, *_args, **_kwargs):
        pass

    info = debug
    warning = debug

    def error(self, *_args, **_kwargs):
        self.errors += 1


class FakeWork:
    """Stands in for ``api.work``; counts the expectations pycti would register."""

    def __init__(self):
        self.expectations = 0
        self.calls = 0

    def add_expectations(self, _work_id, n):
        self.expectations += n
        self.calls += 1


class FakeApi:
    def __init__(self):
        self.work = FakeWork()


class ConnectorInfo:
    buffering = False


class FakeChannel:
    """A channel that accepts every publish; counts bodies and their bytes."""

    def __init__(self, sink):
        self.sink = sink

    def confirm_delivery(self):
        pass

    def basic_publish(self, exchange, routing_key, body, properties=None, mandatory=False):
        self.sink.messages += 1
        self.sink.body_bytes += len(body)
        if self.sink.out is not None:
            self.sink.out.write(body)
            self.sink.out.write("\n")

    def close(self):
        pass


class PublishSink:
    """Where every fake connection's channel reports; optionally keeps bodies."""

    def __init__(self, out=None):
        self.messages = 0
        self.body_bytes = 0
        self.connections = 0
        self.out = out


def install_fake_broker(sink):
    """Replace ``pika.BlockingConnection`` so that pycti publishes into ``sink``."""
    import pika

    class FakeConnection:
        def __init__(self, _parameters):
            sink.connections += 1

        def channel(self):
            return FakeChannel(sink)

        def close(self):
            pass

    pika.BlockingConnection = FakeConnection


def make_helper(helper_cls):
    """Build a stand-in for ``OpenCTIConnectorHelper`` around its real send path."""

    class BenchHelper:
        send_stix2_bundle = helper_cls.send_stix2_bundle
        _send_bundle = helper_cls._send_bundle

        def __init__(self):
            # What the Kaspersky importer reads.
            self.connect_confidence_level = None
            self.metric = FakeMetric()
            self.log_errors = 0

            # What send_stix2_bundle and _send_bundle read, at pycti's defaults
            # for an external-import connector sending to the AMQP queue.
            self.work_id = None
            self.validation_mode = "draft"
            self.draft_id = None
            self.force_validation = False
            self.playbook = None
            self.enrichment_shared_organizations = None
            self.connect_validate_before_import = False
            self.connect_name = "Kaspersky"
            self.applicant_id = APPLICANT_ID
            self.queue_protocol = "amqp"
            self.bundle_send_to_queue = True
            self.bundle_send_to_directory = False
            self.bundle_send_to_directory_path = None
            self.bundle_send_to_directory_retention = 7
            self.bundle_send_to_s3 = False
            self.bundle_send_to_s3_bucket = None
            self.config = {}
            self.connector_config = {
                "connection": {
                    "host": "127.0.0.1",
                    "port": 5672,
                    "vhost": "/",
                    "user": "bench",
                    "pass": "bench",
                    "use_ssl": False,
                },
                "push_exchange": "amqp.worker.exchange",
                "push_routing": "push_routing_bench",
            }
            self.connector_logger = FakeLogger()
            self.connector_info = ConnectorInfo()
            self.api = FakeApi()

        def log_info(self, _msg):
            pass

        def log_debug(self, _msg):
            pass

        def log_warning(self, _msg):
            pass

        def log_error(self, msg):
            self.log_errors += 1
            print(f"importer error: {msg}", file=sys.stderr)

    return BenchHelper()


class FakeClient:
    """Stands in for ``KasperskyClient``: serves the Master IoC payload it holds."""

    def __init__(self, payload_b64, decode):
        self.payload_b64 = payload_b64
        self.decode = decode
        self.calls = 0

    def get_master_ioc(self, _report_group):
        self.calls += 1
        return self.decode(self.payload_b64)

    def close(self):
        pass


def count_rows(text, known_type, excluded):
    """Count data rows, the rows the importer turns into an IoC, and groups.

    Reads the file the way the connector does (``csv.reader``, quote ``'``,
    header skipped, empty lines ignored); an IoC is a row whose type has an
    observation factory and is not excluded; a group is a publication name
    with at least one row left after exclusion.
    """
    reader = csv.reader(text.splitlines(), delimiter=",", quotechar="'")
    next(reader, None)
    rows = 0
    iocs = 0
    groups = set()
    for row in reader:
        if not row:
            continue
        rows += 1
        indicator_type = row[4]
        if indicator_type in excluded:
            continue
        groups.add(row[1])
        if known_type(indicator_type) is not None:
            iocs += 1
    return rows, iocs, len(groups)


def peak_rss_mb():
    # ru_maxrss is in kibibytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def parse_args():
    parser = argparse.ArgumentParser(
        description="Run the Python Kaspersky connector's Master IoC importer on a file."
    )
    parser.add_argument("file", help="Master IoC CSV file")
    parser.add_argument(
        "--connector-src",
        required=True,
        help="the connector's src/ folder (holds the kaspersky package)",
    )
    parser.add_argument(
        "--exclude",
        default="",
        help="comma-separated indicator types to exclude (default: none; "
        "the connector's documented default is md5Hash,sha1Hash)",
    )
    parser.add_argument(
        "--messages-out",
        help="also write every message body, one per line, to this file "
        "(slows the run; for comparing wire output, not for timing)",
    )
    return parser.parse_args()


def main():
    args = parse_args()
    connector_src = Path(args.connector_src).resolve()
    sys.path.insert(0, str(connector_src))

    import pycti
    from pycti import OpenCTIConnectorHelper

    from kaspersky.connector import KasperskyConnector
    from kaspersky.master_ioc.importer import MasterIOCImporter
    from kaspersky.utils import (
        DEFAULT_TLP_MARKING_DEFINITION,
        decode_base64_gzip_to_string,
        get_observation_factory_by_openioc_indicator_type,
    )

    excluded = {t.strip() for t in args.exclude.split(",") if t.strip()}

    text = Path(args.file).read_text(encoding="utf-8")
    rows, iocs, groups = count_rows(text, get_observation_factory_by_openioc_indicator_type, excluded)
    payload = base64.b64encode(gzip.compress(text.encode("utf-8"))).decode("ascii")
    del text

    out = open(args.messages_out, "w", encoding="utf-8") if args.messages_out else None
    sink = PublishSink(out)
    install_fake_broker(sink)
    helper = make_helper(OpenCTIConnectorHelper)
    client = FakeClient(payload, decode_base64_gzip_to_string)

    # The connector's own defaults: author "Kaspersky", TLP amber, report type
    # threat-report, status New; weekday gate off, nothing excluded unless asked.
    report_status = KasperskyConnector._convert_report_status_str_to_report_status_int(
        KasperskyConnector._DEFAULT_REPORT_STATUS
    )
    importer = MasterIOCImporter(
        helper,
        client,
        KasperskyConnector._create_author(),
        DEFAULT_TLP_MARKING_DEFINITION,
        create_observables=True,
        create_indicators=True,
        update_existing_data=False,
        master_ioc_fetch_weekday=None,
        master_ioc_excluded_ioc_indicator_types=excluded,
        master_ioc_report_type=KasperskyConnector._DEFAULT_REPORT_TYPE,
        master_ioc_report_status=report_status,
    )

    baseline = peak_rss_mb()
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    state = importer.start(WORK_ID, {})
    seconds = time.perf_counter() - wall_start
    cpu_seconds = time.process_time() - cpu_start
    peak = peak_rss_mb()

    if out is not None:
        out.close()

    counts = helper.metric.counts
    result = {
        "rows": rows,
        "iocs": iocs,
        "groups": groups,
        "bundles_sent": sink.connections,
        "errors_logged": helper.log_errors,
        "objects": counts.get("record_send", 0),
        "messages": sink.messages,
        "expectations": helper.api.work.expectations,
        "message_bytes": sink.body_bytes,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "iocs_per_second": round(iocs / seconds, 1) if seconds > 0 else None,
        "iocs_per_cpu_second": round(iocs / cpu_seconds, 1) if cpu_seconds > 0 else None,
        "peak_rss_mb": round(peak, 1),
        "baseline_rss_mb": round(baseline, 1),
        "state_keys": sorted(state),
        "python": platform.python_version(),
        "pycti": pycti.__version__,
        "connector_commit": read_commit(connector_src),
    }
    print(json.dumps(result))
    return 0 if helper.log_errors == 0 else 1


def read_commit(connector_src):
    """The connectors commit run.sh recorded next to src/, if any."""
    commit_file = connector_src.parent / "COMMIT"
    if commit_file.is_file():
        return commit_file.read_text(encoding="utf-8").strip()
    return None


if __name__ == "__main__":
    sys.exit(main())
