"""The demo Neuropixels session, shaped like Allen Visual Coding (DANDI 000021) files.

One probe of 384 sites (20 um rows, two sites per row, Allen's checkerboard x positions),
units with Allen's quality columns, ``flashes_presentations`` and
``gabors_presentations`` under ``intervals/``, an ``optotagging`` processing module with
``optogenetic_stimulation``, running speed, and an LFP on every 4th site (96 channels)
computed from a known current source density. Everything planted is returned as
ground truth. Times in seconds, depths (``probe_vertical_position``) in micrometres,
with 0 at the probe tip and depth increasing toward the brain surface, as in Allen files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.demo._session import new_nwbfile, stimulus_table

N_SITES = 384
ROW_PITCH_UM = 20.0
LFP_STEP = 4  # every 4th site, as Allen's probe LFP files
LFP_RATE_HZ = 500.0
LFP_CONVERSION_V = 0.195e-6  # volts per int16 count, as Neuropixels 1.0
SIGMA_S_PER_M = 0.3
AREAS = (
    (0.0, 700.0, "LP"),
    (700.0, 1300.0, "DG"),
    (1300.0, 1800.0, "CA1"),
    (1800.0, 2800.0, "VISp"),
    (2800.0, 4000.0, "root"),
)
GRID_DEG = np.linspace(-40.0, 40.0, 9)
ORIENTATIONS_DEG = (0.0, 45.0, 90.0)
START = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Schedule:
    """Stimulus times of the session (s)."""

    flash_onsets: NDArray[np.float64]
    flash_color: NDArray[np.float64]
    gabor_onsets: NDArray[np.float64]
    gabor_x: NDArray[np.float64]
    gabor_y: NDArray[np.float64]
    gabor_orientation: NDArray[np.float64]
    pulse_onsets: NDArray[np.float64]
    t_stop: float

    flash_duration: float = 0.25
    gabor_duration: float = 0.25
    pulse_duration: float = 0.01


def make_schedule(rng: np.random.Generator) -> Schedule:
    n_flash = 60
    flash_onsets = 10.0 + 2.0 * np.arange(n_flash)
    flash_color = np.where(rng.random(n_flash) < 0.5, -1.0, 1.0)
    xs, ys, oris = np.meshgrid(GRID_DEG, GRID_DEG, ORIENTATIONS_DEG, indexing="ij")
    combos = np.stack([xs.ravel(), ys.ravel(), oris.ravel()], axis=1)
    repeats = 5
    order = np.concatenate([rng.permutation(len(combos)) for _ in range(repeats)])
    gabors = combos[order]
    gabor_onsets = flash_onsets[-1] + 10.0 + 0.25 * np.arange(len(gabors))
    n_pulses = 200
    gaps = rng.uniform(1.0, 1.5, n_pulses)
    pulse_onsets = gabor_onsets[-1] + 10.0 + np.cumsum(gaps)
    return Schedule(
        flash_onsets=flash_onsets,
        flash_color=flash_color,
        gabor_onsets=gabor_onsets,
        gabor_x=gabors[:, 0],
        gabor_y=gabors[:, 1],
        gabor_orientation=gabors[:, 2],
        pulse_onsets=np.round(pulse_onsets, 4),
        t_stop=float(pulse_onsets[-1] + 5.0),
    )


def site_positions() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(vertical, horizontal) position of each site, micrometres."""
    index = np.arange(N_SITES)
    vertical = ROW_PITCH_UM * (index // 2) + ROW_PITCH_UM
    horizontal = np.array([43.0, 11.0, 59.0, 27.0])[index % 4]
    return vertical, horizontal


def area_at(depth_um: NDArray[np.float64]) -> NDArray[np.str_]:
    labels = np.empty(depth_um.shape, dtype=object)
    for low, high, name in AREAS:
        labels[(depth_um >= low) & (depth_um < high)] = name
    return labels.astype(str)


def _window_gain(t, onsets, latency, duration, amplitude):
    """Rate added at times ``t`` by events at ``onsets``: ``amplitude[i]`` in the window
    ``[onset_i + latency, onset_i + latency + duration)`` of the latest event ``i``."""
    last = np.searchsorted(onsets, t - latency, side="right") - 1
    valid = last >= 0
    since = np.where(valid, t - onsets[np.clip(last, 0, None)] - latency, np.inf)
    inside = valid & (since >= 0) & (since < duration)
    return np.where(inside, np.asarray(amplitude)[np.clip(last, 0, None)], 0.0)


def _thin(rng, rate_fn, peak, t_stop):
    n = rng.poisson(peak * t_stop)
    times = np.sort(rng.uniform(0.0, t_stop, n))
    return times[rng.uniform(0.0, peak, n) < rate_fn(times)]


def simulate_units(rng: np.random.Generator, schedule: Schedule):
    """Spike trains and the truth of every planted unit type (ids are row indices)."""
    n_flash, n_rf, n_tag, n_late, n_null = 30, 30, 15, 10, 35
    kinds = ["flash"] * n_flash + ["rf"] * n_rf + ["tagged"] * n_tag + ["late"] * n_late
    kinds += ["null"] * n_null
    n_units = len(kinds)
    baseline = rng.uniform(2.0, 8.0, n_units)
    truth = {"flash_responders": [], "rf_units": [], "tagged_units": [], "late_excited": []}
    spikes = []
    for unit, kind in enumerate(kinds):
        b = baseline[unit]
        if kind == "flash":
            latency = float(np.round(rng.uniform(0.03, 0.06), 4))
            gain = float(np.round(rng.uniform(10.0, 30.0), 2))
            train = _thin(
                rng,
                lambda t, lat=latency, g=gain, b=b: (
                    b + _window_gain(t, schedule.flash_onsets, lat, 0.1, np.full(60, g))
                ),
                b + gain,
                schedule.t_stop,
            )
            truth["flash_responders"].append(
                {
                    "unit": unit,
                    "latency_s": latency,
                    "duration_s": 0.1,
                    "gain_hz": gain,
                    "baseline_hz": round(float(b), 4),
                }
            )
        elif kind == "rf":
            cx, cy = (float(v) for v in np.round(rng.uniform(-30.0, 30.0, 2), 2))
            width = float(np.round(rng.uniform(8.0, 14.0), 2))
            peak = float(np.round(rng.uniform(20.0, 40.0), 2))
            amp = peak * np.exp(
                -((schedule.gabor_x - cx) ** 2 + (schedule.gabor_y - cy) ** 2) / (2 * width**2)
            )
            train = _thin(
                rng,
                lambda t, amp=amp, b=b: b + _window_gain(t, schedule.gabor_onsets, 0.04, 0.2, amp),
                b + peak,
                schedule.t_stop,
            )
            truth["rf_units"].append(
                {
                    "unit": unit,
                    "center_deg": [cx, cy],
                    "sigma_deg": width,
                    "peak_hz": peak,
                    "latency_s": 0.04,
                    "duration_s": 0.2,
                    "baseline_hz": round(float(b), 4),
                }
            )
        elif kind == "late":
            gain = float(np.round(rng.uniform(20.0, 40.0), 2))
            train = _thin(
                rng,
                lambda t, g=gain, b=b: (
                    b + _window_gain(t, schedule.pulse_onsets, 0.02, 0.02, np.full(200, g))
                ),
                b + gain,
                schedule.t_stop,
            )
            truth["late_excited"].append({"unit": unit, "window_s": [0.02, 0.04], "gain_hz": gain})
        else:
            train = _thin(rng, lambda t, b=b: np.full(t.shape, b), b, schedule.t_stop)
            if kind == "tagged":
                latency = float(np.round(rng.uniform(0.0025, 0.0035), 5))
                reliability = float(np.round(rng.uniform(0.3, 0.6), 3))
                jitter = 0.0005
                hit = rng.random(schedule.pulse_onsets.size) < reliability
                evoked = schedule.pulse_onsets[hit] + latency + rng.normal(0, jitter, hit.sum())
                train = np.sort(np.concatenate([train, evoked]))
                truth["tagged_units"].append(
                    {
                        "unit": unit,
                        "latency_s": latency,
                        "jitter_s": jitter,
                        "reliability": reliability,
                    }
                )
        spikes.append(np.round(train, 6))
    return spikes, kinds, truth


@dataclass(frozen=True)
class CsdModel:
    """Flash-evoked current sheets (A/m^3): a sink and an equal source, Gaussian in depth."""

    sink_depth_um: float = 2250.0
    source_depth_um: float = 2500.0
    width_um: float = 60.0
    amplitude_a_per_m3: float = 2000.0
    latency_s: float = 0.05
    tau_s: float = 0.02
    sigma: float = SIGMA_S_PER_M

    def profile(self, depth_um: NDArray[np.float64]) -> NDArray[np.float64]:
        """CSD per unit of the time course at ``depth_um`` (A/m^3); sinks negative."""
        g = lambda d: np.exp(-((depth_um - d) ** 2) / (2 * self.width_um**2))  # noqa: E731
        return self.amplitude_a_per_m3 * (g(self.source_depth_um) - g(self.sink_depth_um))

    def potential(self, depth_um: NDArray[np.float64]) -> NDArray[np.float64]:
        """Potential (V) of the profile at ``depth_um`` from -sigma phi'' = C, exactly for
        Gaussian sheets: phi = -(1 / 2 sigma) int |z - z'| C(z') dz'."""
        from scipy.special import erf

        def sheet(d):
            # int |z - z'| exp(-(z'-d)^2 / 2w^2) dz' for one Gaussian, in m^2.
            w = self.width_um * 1e-6
            u = (depth_um - d) * 1e-6
            bracket = u * erf(u / (np.sqrt(2) * w)) + np.sqrt(2 / np.pi) * w * np.exp(
                -(u**2) / (2 * w**2)
            )
            return np.sqrt(2 * np.pi) * w * bracket

        net = sheet(self.source_depth_um) - sheet(self.sink_depth_um)
        return -self.amplitude_a_per_m3 * net / (2 * self.sigma)

    def time_course(self, since_onset_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Alpha function peaking at 1 one ``tau_s`` after ``latency_s``; 0 before."""
        t = (since_onset_s - self.latency_s) / self.tau_s
        t = np.where(np.isfinite(t) & (t > 0), t, 0.0)  # inf before the first flash
        return t * np.exp(1 - t)


#: Cortical layers of the demo's VISp (micrometres from the probe tip; the brain surface is
#: the top of L1, at the VISp/root boundary). Proportions of mouse V1.
LAYERS_UM = (
    ("L6", 1800.0, 2050.0),
    ("L5", 2050.0, 2300.0),
    ("L4", 2300.0, 2450.0),
    ("L2/3", 2450.0, 2700.0),
    ("L1", 2700.0, 2800.0),
)
SURFACE_UM = 2800.0


@dataclass(frozen=True)
class CsdComponent:
    """One synaptic current pattern: Gaussian sheets in depth with one time course.

    ``sheets`` are ``(depth_um, amplitude_a_per_m3)`` with a common ``width_um``;
    amplitudes are signed (sinks negative) and sum to zero, so the component moves no net
    current. The time course is an alpha function starting ``latency_s`` after onset and
    peaking ``tau_s`` later.
    """

    name: str
    sheets: tuple[tuple[float, float], ...]
    width_um: float
    latency_s: float
    tau_s: float

    def profile(self, depth_um: NDArray[np.float64]) -> NDArray[np.float64]:
        """CSD at the peak of the time course at ``depth_um`` (A/m^3)."""
        depth_um = np.asarray(depth_um, dtype=np.float64)
        return sum(
            a * np.exp(-((depth_um - d) ** 2) / (2 * self.width_um**2)) for d, a in self.sheets
        )

    def time_course(self, since_onset_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Alpha function: 0 before ``latency_s``, 1 at ``latency_s + tau_s``."""
        t = (np.asarray(since_onset_s, dtype=np.float64) - self.latency_s) / self.tau_s
        t = np.where(np.isfinite(t) & (t > 0), t, 0.0)  # inf before the first flash
        return t * np.exp(1 - t)


#: The flash-evoked laminar sequence of the demo (Mitzdorf 1985; Senzai et al. 2019 for
#: mouse V1): an early sink in layer 4 with sources above and below, then a sink in
#: layers 2/3 (source in layer 1) and one in layer 5 (source in layer 6).
LAMINAR_SEQUENCE = (
    CsdComponent("L4", ((2375.0, -7200.0), (2505.0, 3600.0), (2245.0, 3600.0)), 45.0, 0.030, 0.012),
    CsdComponent("L2/3", ((2580.0, -4800.0), (2730.0, 4800.0)), 50.0, 0.045, 0.020),
    CsdComponent("L5", ((2140.0, -3600.0), (1960.0, 3600.0)), 60.0, 0.055, 0.025),
)


@dataclass(frozen=True)
class LaminarCsdModel:
    """The demo's flash-evoked CSD: a sequence of components in a cortical column.

    The potential is that of discs of ``radius_um`` in a homogeneous medium of
    conductivity ``sigma`` (the forward model of Pettersen et al. 2006's delta-iCSD):
    ``phi(z) = 1/(2 sigma) int C(z') (sqrt((z - z')^2 + R^2) - |z - z'|) dz'``. Unlike
    infinite sheets, its far field decays, so channels above the brain surface
    (``SURFACE_UM``) and deep in the hippocampus see little of it; and because the
    column is finite, the second-difference CSD (which assumes infinite sheets) is
    biased while an inverse CSD with the right radius is not. Depths in micrometres from
    the probe tip, times in seconds, CSD in A/m^3 (sinks negative), potentials in volts.
    """

    components: tuple[CsdComponent, ...] = LAMINAR_SEQUENCE
    radius_um: float = 400.0
    sigma: float = SIGMA_S_PER_M

    def time_courses(self, since_onset_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """(n_times, n_components) alpha time courses."""
        return np.stack([c.time_course(since_onset_s) for c in self.components], axis=-1)

    def csd(self, depth_um: ArrayLike, since_onset_s: ArrayLike) -> NDArray[np.float64]:
        """(n_times, n_depths) planted CSD, A/m^3."""
        profiles = np.stack([c.profile(np.asarray(depth_um, float)) for c in self.components])
        return self.time_courses(np.atleast_1d(since_onset_s)) @ profiles

    def potentials(self, depth_um: ArrayLike) -> NDArray[np.float64]:
        """(n_components, n_depths) potential of each component at its peak, volts."""
        depth_m = np.asarray(depth_um, dtype=np.float64) * 1e-6
        radius_m = self.radius_um * 1e-6
        out = []
        for c in self.components:
            centres = [d for d, _ in c.sheets]
            grid_um = np.arange(min(centres) - 6 * c.width_um, max(centres) + 6 * c.width_um, 0.5)
            source = c.profile(grid_um)  # A/m^3
            dz = grid_um[:, None] * 1e-6 - depth_m[None, :]
            kernel = np.sqrt(dz**2 + radius_m**2) - np.abs(dz)  # m
            out.append((source[:, None] * kernel).sum(axis=0) * 0.5e-6 / (2 * self.sigma))
        return np.array(out)

    def potential(self, depth_um: ArrayLike, since_onset_s: ArrayLike) -> NDArray[np.float64]:
        """(n_times, n_depths) potential, volts."""
        return self.time_courses(np.atleast_1d(since_onset_s)) @ self.potentials(depth_um)

    @classmethod
    def from_truth(cls, truth: dict) -> LaminarCsdModel:
        """The model that ``truth`` (``ground_truth.json``'s ``ecephys.csd``) records."""
        components = tuple(
            CsdComponent(
                c["name"],
                tuple((s["depth_um"], s["amplitude_a_per_m3"]) for s in c["sheets"]),
                c["width_um"],
                c["latency_s"],
                c["tau_s"],
            )
            for c in truth["components"]
        )
        return cls(components, truth["radius_um"], truth["sigma_s_per_m"])

    def truth(self) -> dict:
        """What the model plants, for ``ground_truth.json``."""
        return {
            "components": [
                {
                    "name": c.name,
                    "sinks_um": [d for d, a in c.sheets if a < 0],
                    "sources_um": [d for d, a in c.sheets if a > 0],
                    "sheets": [{"depth_um": d, "amplitude_a_per_m3": a} for d, a in c.sheets],
                    "width_um": c.width_um,
                    "latency_s": c.latency_s,
                    "tau_s": c.tau_s,
                    "peak_after_onset_s": c.latency_s + c.tau_s,
                }
                for c in self.components
            ],
            "radius_um": self.radius_um,
            "sigma_s_per_m": self.sigma,
            "layers_um": {name: [low, high] for name, low, high in LAYERS_UM},
            "surface_um": SURFACE_UM,
        }


#: LFP channels (indices into the 96 LFP channels) that record badly without being
#: flagged in ``valid_data``, as real probes have: one dead (no signal, little noise) and
#: one noisy (15 times the noise of the others).
DEAD_LFP_CHANNEL = 54  # 2180 um
NOISY_LFP_CHANNEL = 65  # 2620 um
LFP_NOISE_V = 2e-6
NOISY_LFP_NOISE_V = 30e-6
DEAD_LFP_NOISE_V = 0.5e-6


def lfp_block(
    potentials: NDArray[np.float64],
    model: LaminarCsdModel,
    schedule: Schedule,
    sample_start: int,
    sample_stop: int,
    seed: int,
) -> NDArray[np.int16]:
    """LFP samples ``[sample_start, sample_stop)`` of the flash epoch, int16 counts.

    ``potentials`` is ``model.potentials(depths)`` (n_components, n_channels), computed
    once. Each block draws its own noise from ``(seed, sample_start)``, so blocks can be
    computed in any order and the file is the same however it is chunked. The dead and
    the noisy channel (``DEAD_LFP_CHANNEL``, ``NOISY_LFP_CHANNEL``) are not flagged.
    """
    t0 = schedule.flash_onsets[0] - 1.0
    t = t0 + np.arange(sample_start, sample_stop) / LFP_RATE_HZ
    last = np.searchsorted(schedule.flash_onsets, t, side="right") - 1
    since = np.where(last >= 0, t - schedule.flash_onsets[np.clip(last, 0, None)], np.inf)
    volts = model.time_courses(since) @ potentials
    rng = np.random.default_rng([seed, sample_start])
    noise_v = np.full(volts.shape[1], LFP_NOISE_V)
    noise_v[NOISY_LFP_CHANNEL] = NOISY_LFP_NOISE_V
    noise_v[DEAD_LFP_CHANNEL] = DEAD_LFP_NOISE_V
    volts[:, DEAD_LFP_CHANNEL] = 0.0
    volts += rng.normal(0.0, 1.0, volts.shape) * noise_v
    return np.clip(np.round(volts / LFP_CONVERSION_V), -32768, 32767).astype(np.int16)


def lfp_n_samples(schedule: Schedule) -> int:
    span_s = schedule.flash_onsets[-1] + 3.0 - (schedule.flash_onsets[0] - 1.0)
    return round(span_s * LFP_RATE_HZ)


def build(seed: int, lfp_seed: int):
    """Return (NWBFile, truth dict) of the demo ecephys session for ``seed``."""
    from hdmf.backends.hdf5 import H5DataIO
    from hdmf.data_utils import GenericDataChunkIterator
    from pynwb import ProcessingModule, TimeSeries
    from pynwb.ecephys import LFP, ElectricalSeries

    rng = np.random.default_rng(seed)
    schedule = make_schedule(rng)
    spikes, kinds, truth = simulate_units(rng, schedule)
    nwb = new_nwbfile(
        description=(
            "databook demo: simulated Neuropixels session with planted flash responses, "
            "Gaussian receptive fields, optotagged units and a known current source density"
        ),
        identifier=f"databook-demo-ecephys-seed{seed}",
        start=START,
        session_id=f"demo-ecephys-{seed}",
        shaped_like="Allen Visual Coding Neuropixels",
        keywords=["Neuropixels", "optotagging"],
        subject={
            "subject_id": "demo-mouse-1",
            "sex": "M",
            "age": "P90D",
            "genotype": "Sst-IRES-Cre/wt;Ai32(RCL-ChR2(H134R)_EYFP)/wt",
        },
    )
    from pynwb.misc import Units

    nwb.units = Units(
        name="units",
        description="simulated sorted units",
        resolution=1e-6,  # spike times are stored rounded to the microsecond
    )
    device = nwb.create_device(name="probeA", description="Neuropixels 1.0 (simulated)")
    group = nwb.create_electrode_group(
        name="probeA", description="simulated probe", location="VISp", device=device
    )
    vertical, horizontal = site_positions()
    areas = area_at(vertical)
    valid = np.ones(N_SITES, dtype=bool)
    valid[[191, 192]] = False  # reference sites, as on Neuropixels 1.0
    for col, desc in (
        ("probe_vertical_position", "distance from the probe tip, micrometres"),
        ("probe_horizontal_position", "distance across the shank, micrometres"),
        ("valid_data", "whether the site recorded usable data"),
    ):
        nwb.add_electrode_column(name=col, description=desc)
    for i in range(N_SITES):
        nwb.add_electrode(
            group=group,
            location=areas[i],
            probe_vertical_position=float(vertical[i]),
            probe_horizontal_position=float(horizontal[i]),
            valid_data=bool(valid[i]),
        )

    # Units: depth by kind (responsive units in VISp), Allen's quality metrics.
    n_units = len(spikes)
    visp = np.flatnonzero((areas == "VISp") & valid)
    other = np.flatnonzero((areas != "VISp") & (areas != "root") & valid)
    peak = np.where(
        np.array(kinds) == "null", rng.choice(other, n_units), rng.choice(visp, n_units)
    )
    duration = schedule.t_stop
    columns = {
        "peak_channel_id": ("id of the site with the largest waveform", peak.astype(int)),
        "quality": ("curation label", np.where(rng.random(n_units) < 0.95, "good", "noise")),
        "snr": ("waveform signal-to-noise ratio", np.round(rng.uniform(1.5, 6.0, n_units), 3)),
        "isi_violations": ("ISI violation ratio", np.round(rng.exponential(0.05, n_units), 4)),
        "firing_rate": (
            "mean rate over the session, spikes/s",
            np.round([s.size / duration for s in spikes], 4),
        ),
        "presence_ratio": (
            "fraction of session with spikes",
            np.round(rng.uniform(0.9, 1.0, n_units), 3),
        ),
        "amplitude_cutoff": (
            "estimated missed-spike fraction",
            np.round(rng.uniform(0, 0.1, n_units), 4),
        ),
        "waveform_duration": ("trough-to-peak, ms", np.round(rng.uniform(0.2, 0.9, n_units), 4)),
    }
    for name, (desc, _) in columns.items():
        nwb.add_unit_column(name=name, description=desc)
    for unit in range(n_units):
        nwb.add_unit(
            spike_times=spikes[unit],
            **{name: values[unit].item() for name, (_, values) in columns.items()},
        )

    flashes = stimulus_table(
        "flashes_presentations",
        "full-field flashes",
        schedule.flash_onsets,
        schedule.flash_onsets + schedule.flash_duration,
        {
            "stimulus_name": ("stimulus", "flashes"),
            "color": ("+1 white, -1 black", schedule.flash_color),
        },
    )
    gabors = stimulus_table(
        "gabors_presentations",
        "Gabor patches on a grid",
        schedule.gabor_onsets,
        schedule.gabor_onsets + schedule.gabor_duration,
        {
            "stimulus_name": ("stimulus", "gabors"),
            "x_position": ("azimuth of the patch centre, degrees", schedule.gabor_x),
            "y_position": ("elevation of the patch centre, degrees", schedule.gabor_y),
            "orientation": ("degrees", schedule.gabor_orientation),
        },
    )
    nwb.add_time_intervals(flashes)
    nwb.add_time_intervals(gabors)

    opto = ProcessingModule(name="optotagging", description="optogenetic tagging (Allen layout)")
    pulses = stimulus_table(
        "optogenetic_stimulation",
        "blue light pulses",
        schedule.pulse_onsets,
        schedule.pulse_onsets + schedule.pulse_duration,
        {
            "stimulus_name": ("pulse kind", "pulse"),
            "duration": ("seconds", schedule.pulse_duration),
            "level": ("light power, relative", 1.0),
            "condition": ("description of the pulse", "a single square pulse"),
        },
    )
    opto.add(pulses)
    nwb.add_processing_module(opto)

    running = ProcessingModule(name="running", description="running wheel")
    t_run = np.arange(0.0, schedule.t_stop, 1 / 60.0)
    speed = np.abs(np.convolve(rng.normal(0, 8, t_run.size), np.ones(60) / 60 * 8, "same"))
    running.add(
        TimeSeries(
            name="running_speed",
            data=H5DataIO(speed.astype(np.float32), compression="gzip"),
            unit="cm/s",
            starting_time=0.0,
            rate=60.0,
            description="wheel speed",
        )
    )
    nwb.add_processing_module(running)

    model = LaminarCsdModel()
    lfp_sites = np.arange(0, N_SITES, LFP_STEP)
    depths = vertical[lfp_sites]
    potentials = model.potentials(depths)
    n_samples = lfp_n_samples(schedule)

    class LfpChunks(GenericDataChunkIterator):
        def _get_data(self, selection):
            rows, cols = selection
            block = lfp_block(potentials, model, schedule, rows.start or 0, rows.stop, lfp_seed)
            return block[:, cols]

        def _get_maxshape(self):
            return (n_samples, lfp_sites.size)

        def _get_dtype(self):
            return np.dtype(np.int16)

    region = nwb.create_electrode_table_region(
        region=lfp_sites.tolist(), description="every 4th site"
    )
    lfp = ElectricalSeries(
        name="probe_A_lfp",
        data=H5DataIO(
            LfpChunks(buffer_shape=(10000, lfp_sites.size), chunk_shape=(2500, lfp_sites.size)),
            compression="gzip",
        ),
        electrodes=region,
        starting_time=float(schedule.flash_onsets[0] - 1.0),
        rate=LFP_RATE_HZ,
        conversion=LFP_CONVERSION_V,
        filtering="simulated: band-limited to 0-250 Hz",
        description="local field potential during flashes",
    )
    ecephys = nwb.create_processing_module(name="ecephys", description="LFP")
    container = LFP(name="LFP")
    ecephys.add(container)  # attach first, so the electrodes region has its table's parent
    container.add_electrical_series(lfp)

    truth.update(
        {
            "n_units": n_units,
            "unit_kinds": kinds,
            "csd": {
                **model.truth(),
                "lfp_channels": lfp_sites.tolist(),
                "lfp_rate_hz": LFP_RATE_HZ,
                "lfp_noise_v": LFP_NOISE_V,
                # LFP channels that record badly without a valid_data flag
                "unflagged_bad_channels": {
                    "dead": [DEAD_LFP_CHANNEL],
                    "noisy": [NOISY_LFP_CHANNEL],
                },
                "flagged_bad_channels": np.flatnonzero(~valid[lfp_sites]).tolist(),
            },
            "opto": {"pulse_duration_s": schedule.pulse_duration, "n_pulses": 200},
            "gabor_grid_deg": GRID_DEG.tolist(),
        }
    )
    return nwb, truth
