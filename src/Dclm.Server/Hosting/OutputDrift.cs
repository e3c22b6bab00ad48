using System.Globalization;

namespace Dclm.Server.Hosting;

/// <summary>The band a stability signal's window mean should stay in; outside it the drift alarm is raised.</summary>
/// <param name="Low">Lowest acceptable window mean.</param>
/// <param name="High">Highest acceptable window mean.</param>
public sealed record DriftBand(double Low, double High)
{
    /// <summary>Reads "LOW:HIGH" (either side may be empty for no limit); <paramref name="flag"/> names the source in errors.</summary>
    public static DriftBand Parse(string text, string flag)
    {
        var parts = text.Split(':');
        static double Side(string s, double none) => s.Trim().Length == 0 ? none : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        try
        {
            if (parts.Length != 2) throw new FormatException();
            var band = new DriftBand(Side(parts[0], double.NegativeInfinity), Side(parts[1], double.PositiveInfinity));
            if (double.IsNaN(band.Low) || double.IsNaN(band.High) || band.Low > band.High) throw new FormatException();
            return band;
        }
        catch (FormatException) { throw new ArgumentException($"{flag} '{text}': expected LOW:HIGH with LOW ≤ HIGH (e.g. -3:-0.5, or 0.2: for no upper limit)"); }
    }

    /// <summary>Whether <paramref name="value"/> lies in the band, ends included.</summary>
    public bool Contains(double value) => value >= Low && value <= High;
}

/// <summary>What the drift alarm watches: the window size and a band per signal (logprob, entropy, repetition).</summary>
public sealed record DriftOptions
{
    /// <summary>The signals a band may be set for.</summary>
    public static readonly IReadOnlyList<string> Signals = ["logprob", "entropy", "repetition"];

    /// <summary>Requests in the moving window whose mean is compared with the band.</summary>
    public int Window { get; init; } = 100;
    /// <summary>Bands by signal; a signal without one raises no alarm (its window mean is still exported).</summary>
    public IReadOnlyDictionary<string, DriftBand> Bands { get; init; } = new Dictionary<string, DriftBand>();
}

/// <summary>
/// The moving mean of one stability signal over the last <see cref="DriftOptions.Window"/> requests, and whether it has
/// left its band. The alarm is judged once the window is full, and each change of state is reported once
/// (a log line), so a drifting server logs when it starts and when it recovers, not on every request. Thread-safe.
/// </summary>
public sealed class DriftWindow(string signal, int size, DriftBand? band, Action<string>? log)
{
    private readonly double[] _values = new double[Math.Max(1, size)];
    private readonly Lock _lock = new();
    private int _count, _next;
    private double _sum;

    /// <summary>The signal's name.</summary>
    public string Signal => signal;
    /// <summary>The mean of the window (NaN before any value).</summary>
    public double Mean { get { lock (_lock) return _count == 0 ? double.NaN : _sum / _count; } }
    /// <summary>Whether the full window's mean is outside the band.</summary>
    public bool Alarm { get; private set; }

    /// <summary>Adds one request's value (NaN values, from outputs with nothing measured, are skipped).</summary>
    public void Add(double value)
    {
        if (double.IsNaN(value)) return;
        string? message = null;
        lock (_lock)
        {
            if (_count == _values.Length) _sum -= _values[_next];
            else _count++;
            _values[_next] = value;
            _next = (_next + 1) % _values.Length;
            _sum += value;
            // Recomputed from the window now and then, so rounding in the running sum cannot build up.
            if (_next == 0) _sum = _values.AsSpan(0, _count).ToArray().Sum();
            if (band is null || _count < _values.Length) return;
            double mean = _sum / _count;
            bool alarm = !band.Contains(mean);
            if (alarm == Alarm) return;
            Alarm = alarm;
            message = alarm
                ? string.Create(CultureInfo.InvariantCulture, $"output drift: the mean {signal} of the last {_count} requests is {mean:0.####}, outside the band [{band.Low}, {band.High}]")
                : string.Create(CultureInfo.InvariantCulture, $"output drift cleared: the mean {signal} of the last {_count} requests is {mean:0.####}, back inside [{band.Low}, {band.High}]");
        }
        log?.Invoke(message);
    }
}
