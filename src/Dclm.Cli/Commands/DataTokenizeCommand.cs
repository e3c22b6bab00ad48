using System.CommandLine;
using Dclm.Data.Tokenize;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data tokenize`: curated documents to shuffled 2049-token training windows.</summary>
internal static class DataTokenizeCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Curated output folder (its documents/) or JSONL files", Required = true };
        var tokenizer = new Option<string>("--model-or-tokenizer") { Description = "tokenizer.json or a .gguf whose vocabulary to use", Required = true };
        var output = new Option<string>("--output") { Description = "Folder for shard-*.bin and manifest.json", Required = true };
        var window = new Option<int>("--window") { Description = "Tokens per window", DefaultValueFactory = _ => 2049 };
        var perShard = new Option<int>("--windows-per-shard") { Description = "Windows per shard file", DefaultValueFactory = _ => 8192 };
        var seed = new Option<int>("--seed") { Description = "Shuffle seed", DefaultValueFactory = _ => 1234 };
        var threads = new Option<int>("--threads") { Description = "Tokenizer threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("tokenize", "Tokenize curated documents into globally shuffled token windows") { input, tokenizer, output, window, perShard, seed, threads };
        command.SetAction((parse, cancellation) => Task.FromResult(DataCommand.Guard(() =>
        {
            var options = new TokenizeOptions(parse.GetValue(input)!, ResolveTokenizer(parse.GetValue(tokenizer)!), parse.GetValue(output)!)
            {
                WindowLength = parse.GetValue(window), WindowsPerShard = parse.GetValue(perShard),
                Seed = parse.GetValue(seed), Threads = Math.Max(1, parse.GetValue(threads)),
            };
            var manifest = TokenizeRunner.Run(options, cancellation);
            Console.WriteLine($"{manifest.Documents} documents -> {manifest.Windows} windows of {manifest.WindowLength} tokens in {manifest.Shards.Count} shards " +
                              $"(eot {manifest.EotId}, dropped tail {manifest.DroppedTailTokens} tokens) at {options.OutputPath}");
        })));
        return command;
    }

    /// <summary>A model folder resolves to its tokenizer.json; files are used as given.</summary>
    private static string ResolveTokenizer(string path)
    {
        if (Directory.Exists(path))
        {
            var json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return json;
            throw new FileNotFoundException($"{path}: no tokenizer.json in the model folder");
        }
        return path;
    }
}
