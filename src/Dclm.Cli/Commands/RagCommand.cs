using System.CommandLine;
using System.Text.Json;
using Dclm.Rag;
using Dclm.Rag.Indexing;
using Dclm.Rag.Search;

namespace Dclm.Cli.Commands;

/// <summary>`dclm rag index|search|ask`: retrieval over a folder of documents.</summary>
internal static class RagCommand
{
    public static Command Create()
    {
        var command = new Command("rag", "Index documents, search them, and answer questions from them");
        command.Subcommands.Add(CreateIndex());
        command.Subcommands.Add(CreateSearch());
        command.Subcommands.Add(RagAskCommand.Create());
        return command;
    }

    internal static Option<string> IndexOption() => new("--index") { Description = "the index folder", Required = true };

    private static Command CreateIndex()
    {
        var inputs = new Option<string[]>("--input") { Description = "files or folders to index (.txt, .md, .html, .jsonl; folders recursively)", Required = true, AllowMultipleArgumentsPerToken = true };
        var index = IndexOption();
        var embedder = EmbedderOptions.Embedder("--embedder");
        var chunkTokens = new Option<int>("--chunk-tokens") { Description = "tokens per chunk, counted by the embedder's tokenizer", DefaultValueFactory = _ => 256 };
        var overlap = new Option<int>("--overlap") { Description = "tokens shared by consecutive chunks", DefaultValueFactory = _ => 32 };
        var windowTokens = new Option<int>("--window-tokens") { Description = "tokens per dense window: each chunk is embedded as windows this long and found by its best one", DefaultValueFactory = _ => IndexBuildOptions.DefaultWindowTokens };
        var windowOverlap = new Option<int>("--window-overlap") { Description = "tokens shared by consecutive windows of a chunk", DefaultValueFactory = _ => IndexBuildOptions.DefaultWindowOverlap };
        var update = new Option<bool>("--update") { Description = "embed only new and changed files, drop deleted ones, reuse the rest" };
        var command = new Command("index", "Build (or update) a hybrid BM25 + vector index of documents") { inputs, index, embedder, chunkTokens, overlap, windowTokens, windowOverlap, update };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            string name = parse.GetValue(embedder)!;
            using var model = EmbedderOptions.Load(name);
            int window = Math.Min(parse.GetValue(windowTokens), parse.GetValue(chunkTokens)), readable = model.MaxTokens - model.SpecialTokenCount;
            if (window > readable)
                Console.Error.WriteLine($"note: {model.ModelId} reads at most {readable} tokens of text; vectors of {window}-token windows see their first {readable}, BM25 sees chunks whole");
            var progress = new StageProgress();
            var builder = new IndexBuilder(model, name)
            {
                Progress = progress,
                OnSkipped = skip => Console.Error.WriteLine($"skipped {skip.Path}: {skip.Reason}"),
            };
            var options = new IndexBuildOptions
            {
                ChunkTokens = parse.GetValue(chunkTokens),
                Overlap = parse.GetValue(overlap),
                WindowTokens = parse.GetValue(windowTokens),
                WindowOverlap = parse.GetValue(windowOverlap),
                Update = parse.GetValue(update),
            };
            var report = builder.Build(parse.GetValue(inputs)!, parse.GetValue(index)!, options, cancellation);
            progress.Finish();
            Console.WriteLine($"indexed {report.Files} files into {report.Chunks} chunks ({report.EmbeddedChunks} embedded as {report.EmbeddedWindows} dense windows, {report.ReusedFiles} files reused), {report.Skipped.Count} skipped; generation {report.Generation}");
            foreach (var stage in report.Stages)
                Console.WriteLine($"  {stage.Stage,-6} {stage.Seconds,8:F2} s  {stage.MegabytesPerSecond,9:F3} MB/s");
            return Task.FromResult(report.Skipped.Count == 0 || report.Files > 0 ? 0 : 1);
        }));
        return command;
    }

    private static Command CreateSearch()
    {
        var index = IndexOption();
        var query = new Option<string>("--query") { Description = "what to search for", Required = true };
        var topK = new Option<int>("--top-k") { Description = "how many chunks to return", DefaultValueFactory = _ => 5 };
        var mode = new Option<string>("--mode") { Description = "hybrid (BM25 and vector scores fused), bm25, or dense", DefaultValueFactory = _ => "hybrid" };
        mode.AcceptOnlyFromAmong("hybrid", "bm25", "dense");
        var json = new Option<bool>("--json") { Description = "print a JSON array of {\"source\", \"chunk\", \"text\", \"score\"}, best first" };
        var command = new Command("search", "Find the chunks of an index that best match a query") { index, query, topK, mode, json };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var opened = RagIndex.Open(parse.GetValue(index)!);
            var searchMode = ParseMode(parse.GetValue(mode));
            using var embedder = searchMode == SearchMode.Bm25 ? null : EmbedderOptions.Load(opened.Manifest.Embedder);
            var hits = opened.Search(parse.GetValue(query)!, parse.GetValue(topK), searchMode, embedder);
            if (parse.GetValue(json)) Console.WriteLine(SearchJson(hits));
            else
                for (int i = 0; i < hits.Count; i++)
                {
                    var c = hits[i].Chunk;
                    Console.WriteLine($"[{i + 1}] {c.Source} chunk {c.Chunk} (score {hits[i].Score:G4})");
                    Console.WriteLine("    " + OneLine(c.Text, 300));
                }
            return 0;
        }));
        return command;
    }

    /// <summary>The search result array as the issue specifies it: source, chunk, text, score.</summary>
    internal static string SearchJson(IReadOnlyList<SearchHit> hits) =>
        JsonSerializer.Serialize(hits.Select(h => new { source = h.Chunk.Source, chunk = h.Chunk.Chunk, text = h.Chunk.Text, score = h.Score }));

    internal static SearchMode ParseMode(string? mode) => mode switch
    {
        "bm25" => SearchMode.Bm25,
        "dense" => SearchMode.Dense,
        _ => SearchMode.Hybrid,
    };

    internal static string OneLine(string text, int limit)
    {
        string flat = string.Join(' ', text.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return flat.Length <= limit ? flat : flat[..limit] + "…";
    }

    /// <summary>
    /// Stage progress on standard error: overwritten in place on a terminal; in a pipe, a plain line when a
    /// stage starts and every 30 seconds within it.
    /// </summary>
    private sealed class StageProgress : IProgress<IndexProgress>
    {
        private readonly bool terminal = !Console.IsErrorRedirected;
        private long lastTicks;
        private string? lastStage;
        private bool wrote;

        public void Report(IndexProgress value)
        {
            long now = Environment.TickCount64;
            bool newStage = value.Stage != lastStage;
            lastStage = value.Stage;
            if (!terminal)
            {
                if (!newStage && now - lastTicks < 30_000) return;
                lastTicks = now;
                Console.Error.WriteLine($"{value.Stage}: {value.Done}/{value.Total}");
                return;
            }
            if (!newStage && value.Done != value.Total && now - lastTicks < 250) return;
            lastTicks = now;
            Console.Error.Write($"\r{value.Stage}: {value.Done}/{value.Total}        ");
            wrote = true;
        }

        public void Finish()
        {
            if (wrote) Console.Error.WriteLine();
        }
    }
}
