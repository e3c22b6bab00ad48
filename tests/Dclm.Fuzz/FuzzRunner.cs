using System.Diagnostics;

namespace Dclm.Fuzz;

/// <summary>What a run of one target found.</summary>
internal sealed class TargetReport(string target, string expectedErrors)
{
    public string Target { get; } = target;
    public string ExpectedErrors { get; } = expectedErrors;
    public int Cases { get; set; }
    public int Accepted { get; set; }
    public int Refused { get; set; }
    /// <summary>Exceptions other than a clean refusal, by type and first message line, with the first case that raised each.</summary>
    public Dictionary<string, (int Count, int FirstCase)> Unexpected { get; } = [];
    /// <summary>Cases that had not finished at the hang limit (abandoned).</summary>
    public List<int> Hangs { get; } = [];
    /// <summary>Cases that finished but took longer than the per-case time limit.</summary>
    public List<int> OverTimeLimit { get; } = [];
    public double SlowestMilliseconds { get; set; }
    public int SlowestCase { get; set; }
    public long LargestAllocation { get; set; }
    public int LargestAllocationCase { get; set; }
    public double TotalSeconds { get; set; }
    public long PeakWorkingSet { get; set; }

    public int UnexpectedCount => Unexpected.Values.Sum(entry => entry.Count);

    public bool Clean => UnexpectedCount == 0 && Hangs.Count == 0;
}

/// <summary>
/// Runs N mutated cases of a target, each on a worker thread under a time limit, and classifies each: accepted,
/// cleanly refused, an unexpected exception (a finding), over the time limit, or hung (not finished at the hang
/// limit; abandoned and reported). Case i of a target always comes from Random(seed, target, i), so any case
/// can be replayed alone.
/// </summary>
internal sealed class FuzzRunner(TimeSpan timeLimit, TimeSpan hangLimit, string? saveFolder = null, TextWriter? progress = null)
{
    /// <summary>The seed of case <paramref name="index"/>: the same in every process (HashCode would not be).</summary>
    public static int CaseSeed(int seed, string target, int index)
    {
        ulong mixed = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)StableHash(target) * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(uint)index * 0x165667B19E3779F9UL);
        mixed ^= mixed >> 29;
        mixed = unchecked(mixed * 0xBF58476D1CE4E5B9UL);
        return (int)((mixed ^ (mixed >> 32)) & int.MaxValue);
    }

    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char c in text) hash = unchecked(hash * 31 + c);
        return hash;
    }

    public TargetReport Run(FuzzTarget target, int cases, int seed, int firstCase = 0)
    {
        var report = new TargetReport(target.Name, target.ExpectedErrors);
        var total = Stopwatch.StartNew();
        for (int index = firstCase; index < firstCase + cases; index++)
        {
            byte[] input = target.NextCase(new Random(CaseSeed(seed, target.Name, index)));
            RunCase(target, input, index, report);
            report.Cases++;
            if (progress is not null && (index - firstCase + 1) % 250 == 0)
                progress.WriteLine($"  {target.Name}: {index - firstCase + 1}/{cases} cases, {report.UnexpectedCount} unexpected, {report.Hangs.Count} hangs");
        }
        report.TotalSeconds = total.Elapsed.TotalSeconds;
        report.PeakWorkingSet = Process.GetCurrentProcess().PeakWorkingSet64;
        return report;
    }

    private void RunCase(FuzzTarget target, byte[] input, int index, TargetReport report)
    {
        using var cancellation = new CancellationTokenSource(hangLimit);
        long allocated = 0;
        var watch = Stopwatch.StartNew();
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                return target.Run(input, cancellation.Token);
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }, cancellation.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(hangLimit + TimeSpan.FromSeconds(5)))
        {
            report.Hangs.Add(index);
            Save(target, index, input, "hang");
            return;
        }
        double milliseconds = watch.Elapsed.TotalMilliseconds;
        if (milliseconds > report.SlowestMilliseconds) (report.SlowestMilliseconds, report.SlowestCase) = (milliseconds, index);
        if (milliseconds > timeLimit.TotalMilliseconds)
        {
            report.OverTimeLimit.Add(index);
            Save(target, index, input, "slow");
        }
        if (allocated > report.LargestAllocation) (report.LargestAllocation, report.LargestAllocationCase) = (allocated, index);

        if (task.IsFaulted)
        {
            var error = task.Exception!.InnerException!;
            string key = $"{error.GetType().Name}: {FirstLine(error.Message)}";
            report.Unexpected[key] = report.Unexpected.TryGetValue(key, out var entry) ? (entry.Count + 1, entry.FirstCase) : (1, index);
            Save(target, index, input, "unexpected", error.ToString());
        }
        else if (task.Result) report.Accepted++;
        else report.Refused++;
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        text = end < 0 ? text : text[..end];
        return text.Length <= 160 ? text : text[..160] + "…";
    }

    private void Save(FuzzTarget target, int index, byte[] input, string kind, string? detail = null)
    {
        if (saveFolder is null) return;
        Directory.CreateDirectory(saveFolder);
        string stem = Path.Combine(saveFolder, $"{target.Name}-{index}-{kind}");
        File.WriteAllBytes(stem + ".bin", input);
        if (detail is not null) File.WriteAllText(stem + ".txt", detail);
    }
}
