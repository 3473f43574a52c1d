"""Planted bugs in databook.localarchive that tests/test_localarchive.py must catch: the
counts behind chapter 1's access-cost figure, and the server's clean exit."""

F = "src/databook/localarchive.py"
T = "tests/test_localarchive.py::"

MUTATIONS = [
    {
        "name": "localarchive-range-end-exclusive",
        "file": F,
        "old": "stop = min(int(rng.group(2)) + 1 if rng.group(2) else size, size)",
        "new": "stop = min(int(rng.group(2)) if rng.group(2) else size, size)",
        "tests": [T + "test_ranges_return_exactly_the_bytes_asked_for"],
    },
    {
        "name": "localarchive-traffic-counts-earlier-requests",
        "file": F,
        "old": "            start = len(self.log)\n",
        "new": "            start = 0\n",
        "tests": [T + "test_traffic_counts_only_its_own_block_and_blocks_nest"],
    },
    {
        "name": "localarchive-remfile-probe-counted-as-download",
        "file": F,
        "old": 'kind = "probe" if agent.startswith("remfile/") else "whole"',
        "new": 'kind = "whole"',
        "tests": [T + "test_streaming_counts_the_ranges_asked_for_and_one_probe_not_a_download"],
    },
    {
        "name": "localarchive-cut-short-get-counted-as-download",
        "file": F,
        "old": 'elif r.kind == "whole" and r.complete:',
        "new": 'elif r.kind == "whole":',
        "tests": [T + "test_an_abandoned_whole_get_is_a_probe_not_a_download"],
    },
    {
        "name": "localarchive-exit-leaves-kept-alive-connections",
        "file": F,
        "old": "                conn.shutdown(socket.SHUT_RDWR)\n",
        "new": "                pass\n",
        "tests": [T + "test_exit_hangs_up_on_kept_alive_clients_and_joins_every_thread"],
    },
    {
        "name": "localarchive-bytes-include-probes",
        "file": F,
        "old": "return self.bytes_ranged + self.bytes_whole + self.bytes_api",
        "new": "return self.bytes_ranged + self.bytes_whole + self.bytes_api + self.bytes_probes",
        "tests": [T + "test_streaming_counts_the_ranges_asked_for_and_one_probe_not_a_download"],
    },
]
