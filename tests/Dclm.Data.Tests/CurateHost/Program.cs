// Runs one curation in its own process so tests can kill it mid-run and start N shards side by side.
// Usage: CurateHost <config.yaml> <input> <output> <shard i/N> <phase all|local|dedup|global> <threads> [partition p/P]
using Dclm.Data.Pipeline;

var config = PipelineConfigLoader.Load(args[0]);
var options = new CurationOptions(args[1], args[2])
{
    Shard = ShardSpec.Parse(args[3]),
    Phase = Enum.Parse<CurationPhase>(args[4], ignoreCase: true),
    Threads = int.Parse(args[5]),
    Partition = args.Length > 6 ? ShardSpec.Parse(args[6]) : ShardSpec.All,
};
var progress = new Progress(p => Console.Out.WriteLine($"[{p.Phase}] {p.Done}/{p.Total}"));
CurationRunner.Run(config, options, progress);
Console.Out.WriteLine("done");

internal sealed class Progress(Action<CurationProgress> report) : IProgress<CurationProgress>
{
    public void Report(CurationProgress value)
    {
        lock (this) report(value);
    }
}
