using System.CommandLine;
using Dclm.Data.Pipeline;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data curate`: raw web data to curated documents plus report.json and plots.</summary>
internal static class DataCurateCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Folder or file: .warc(.gz), .jsonl(.gz|.zst), .html", Required = true };
        var output = new Option<string>("--output") { Description = "Output folder (documents/, report.json, plots/)", Required = true };
        var config = new Option<string?>("--config") { Description = "pipeline.yaml (default: DCLM-Baseline settings)" };
        var threads = new Option<int>("--threads") { Description = "Worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var shard = new Option<string>("--shard") { Description = "Process input shard i of N (i/N); run --phase global once all shards are done", DefaultValueFactory = _ => "0/1" };
        var phase = new Option<string>("--phase") { Description = "all, local (per-shard stages), dedup (one BFF partition) or global (dedup, quality, mixing, report)", DefaultValueFactory = _ => "all" };
        phase.AcceptOnlyFromAmong("all", "local", "dedup", "global");
        var partition = new Option<string>("--partition") { Description = "BFF partition p/P for --phase dedup (P = dedup.bff.partitions)", DefaultValueFactory = _ => "0/1" };
        var command = new Command("curate", "Run the DCLM-Baseline curation pipeline") { input, output, config, threads, shard, phase, partition };
        command.SetAction((parse, cancellation) => Task.FromResult(DataCommand.Guard(() =>
        {
            var pipeline = parse.GetValue(config) is { } path ? PipelineConfigLoader.Load(path) : new PipelineConfig();
            if (parse.GetValue(threads) < 1) throw new ArgumentException("--threads must be at least 1");
            var options = new CurationOptions(parse.GetValue(input)!, parse.GetValue(output)!)
            {
                Threads = parse.GetValue(threads),
                Shard = ShardSpec.Parse(parse.GetValue(shard)!),
                Phase = Enum.Parse<CurationPhase>(parse.GetValue(phase)!, ignoreCase: true),
                Partition = ShardSpec.Parse(parse.GetValue(partition)!),
            };
            var report = CurationRunner.Run(pipeline, options, new ConsoleProgress(), cancellation);
            if (report is null)
            {
                Console.WriteLine(options.Phase == CurationPhase.Dedup
                    ? $"BFF partition {options.Partition} done; run --phase global after all partitions finish"
                    : $"shard {options.Shard} done; run with --phase global after all shards finish");
                return;
            }
            foreach (var stage in report.Stages)
                Console.WriteLine($"{stage.Name,-16} {stage.DocsIn,9} -> {stage.DocsOut,9} docs  {stage.BytesIn / 1e6,9:F1} -> {stage.BytesOut / 1e6,8:F1} MB  {report.Timings.Of(stage.Name),7:F1} s");
            Console.WriteLine($"wrote {report.OutputFiles.Count} files, report.json and timings.json to {options.OutputPath}");
        })));
        return command;
    }
}
