using System.Text.Json;
using Dclm.Inference;
using Prometheus;

namespace Dclm.Server.Hosting;

/// <summary>
/// Output-stability metrics on /metrics: per request, the mean token log-probability and entropy and the rep-4 repetition
/// rate (histograms), empty and truncated completions, JSON replies that do not parse; per signal the moving window's mean
/// and the drift alarm. The values come with each finished generation (<see cref="OutputStability"/>, measured by the engine
/// from the logits it samples from).
/// </summary>
internal sealed class OutputStabilityMetrics
{
    private readonly Histogram _logprob, _entropy, _repetition;
    private readonly Counter _outputs, _empty, _truncated, _jsonReplies, _jsonFailures;
    private readonly Gauge _windowMean, _alarm;
    private readonly DriftWindow[] _windows;

    public OutputStabilityMetrics(IMetricFactory factory, DriftOptions drift, Action<string>? log)
    {
        _logprob = factory.CreateHistogram("dclm_output_mean_logprob", "Per request: mean log-probability (nats) of the generated tokens under the model's softmax.",
            new HistogramConfiguration { Buckets = [-8, -6, -5, -4, -3, -2.5, -2, -1.5, -1, -0.75, -0.5, -0.25, -0.1, -0.01] });
        _entropy = factory.CreateHistogram("dclm_output_mean_entropy_nats", "Per request: mean entropy (nats) of the distributions the generated tokens were drawn from.",
            new HistogramConfiguration { Buckets = [0.01, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8] });
        _repetition = factory.CreateHistogram("dclm_output_repetition_rate", "Per request: share of repeated token 4-grams in the output, 1 - distinct/total (rep-4).",
            new HistogramConfiguration { Buckets = Histogram.LinearBuckets(0.1, 0.1, 10) });
        _outputs = factory.CreateCounter("dclm_outputs_total", "Finished generations measured for output stability.");
        _empty = factory.CreateCounter("dclm_output_empty_total", "Finished generations with no visible text besides white space.");
        _truncated = factory.CreateCounter("dclm_output_truncated_total", "Finished generations cut by the token budget (finish_reason length).");
        _jsonReplies = factory.CreateCounter("dclm_output_json_replies_total", "Chat replies under a JSON response_format, by mode (json_object, json_schema).", new[] { "mode" });
        _jsonFailures = factory.CreateCounter("dclm_output_json_failures_total", "Chat replies under a JSON response_format that do not parse as JSON, by mode.", new[] { "mode" });
        _windowMean = factory.CreateGauge("dclm_output_window_mean", "Mean of a stability signal (logprob, entropy, repetition) over the drift window's requests.", new[] { "signal" });
        _alarm = factory.CreateGauge("dclm_output_drift_alarm", "1 while the signal's window mean is outside its configured band (dclm serve --drift-*), else 0.", new[] { "signal" });
        _windows = DriftOptions.Signals.Select(s => new DriftWindow(s, drift.Window, drift.Bands.GetValueOrDefault(s), log)).ToArray();
        foreach (var window in _windows) _alarm.WithLabels(window.Signal).Set(0);
    }

    /// <summary>Observes one finished generation.</summary>
    public void Observe(OutputStability output)
    {
        _outputs.Inc();
        if (output.Empty) _empty.Inc();
        if (output.Truncated) _truncated.Inc();
        _repetition.Observe(output.RepetitionRate);
        if (output.MeasuredTokens > 0)
        {
            _logprob.Observe(output.MeanLogprob);
            _entropy.Observe(output.MeanEntropy);
        }
        double[] values = [output.MeanLogprob, output.MeanEntropy, output.RepetitionRate];
        for (int i = 0; i < _windows.Length; i++)
        {
            _windows[i].Add(values[i]);
            if (!double.IsNaN(_windows[i].Mean)) _windowMean.WithLabels(_windows[i].Signal).Set(_windows[i].Mean);
            _alarm.WithLabels(_windows[i].Signal).Set(_windows[i].Alarm ? 1 : 0);
        }
    }

    /// <summary>Counts one reply made under a JSON response format, and whether it failed to parse.</summary>
    public void ObserveJson(string mode, string text)
    {
        _jsonReplies.WithLabels(mode).Inc();
        try { using var _ = JsonDocument.Parse(text); }
        catch (JsonException) { _jsonFailures.WithLabels(mode).Inc(); }
    }
}
