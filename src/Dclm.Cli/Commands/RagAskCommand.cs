using System.CommandLine;
using System.Text.Json;
using Dclm.Rag;
using Dclm.Rag.Answers;
using Dclm.Chat;

namespace Dclm.Cli.Commands;

/// <summary>
/// `dclm rag ask --index I [--model P] "question"`: retrieves chunks, puts them into the model's chat
/// template with an instruction to cite them, and prints the answer and the numbered sources.
/// </summary>
internal static class RagAskCommand
{
    public static Command Create()
    {
        var index = RagCommand.IndexOption();
        var model = ModelOptions.Model();
        var question = new Argument<string>("question") { Description = "the question to answer" };
        var topK = new Option<int>("--top-k") { Description = "chunks retrieved into the prompt (cut to fit the model's context)", DefaultValueFactory = _ => 5 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens in the answer", DefaultValueFactory = _ => 256 };
        var mode = new Option<string>("--mode") { Description = "hybrid, bm25 or dense retrieval", DefaultValueFactory = _ => "hybrid" };
        mode.AcceptOnlyFromAmong("hybrid", "bm25", "dense");
        var temperature = new Option<float>("--temperature") { Description = "sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0f };
        var json = new Option<bool>("--json") { Description = "print {\"answer\", \"sources\": [{\"number\", \"source\", \"chunk\", \"text\", \"score\", \"cited\"}]}" };
        var threads = ModelOptions.Threads();
        var command = new Command("ask", "Answer a question from an index's documents, citing them as [1], [2], ...")
        {
            question, index, model, topK, maxTokens, mode, temperature, json, threads,
        };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(async () =>
        {
            using var opened = RagIndex.Open(parse.GetValue(index)!);
            var searchMode = RagCommand.ParseMode(parse.GetValue(mode));
            using var embedder = searchMode == Rag.Search.SearchMode.Bm25 ? null : EmbedderOptions.Load(opened.Manifest.Embedder);
            var options = new ModelHostOptions
            {
                ModelPath = ServeModel.Resolve(parse.GetValue(model)), Threads = parse.GetValue(threads),
                Engine = new Inference.Engine.EngineOptions { MaxRunningSequences = 1, ContextLength = 1 << 20, PrefixCacheEntries = 2 },
            };
            using var host = new ModelHost(options);
            try { await host.Loading.WaitAsync(cancellation); }
            catch (Exception e) when (e is not OperationCanceledException) { throw new ArgumentException($"{options.ModelPath}: {e.Message}"); }
            using var client = new EngineChatClient(host);
            var answerer = new GroundedAnswerer(opened, embedder, client, host.Engine!.ContextLength, text => host.EncodeText(text).Length);
            var askOptions = new AskOptions
            {
                TopK = parse.GetValue(topK), Mode = searchMode, MaxAnswerTokens = parse.GetValue(maxTokens), Temperature = parse.GetValue(temperature),
            };
            var answer = await answerer.AskAsync(parse.GetValue(question)!, askOptions, cancellation);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    answer = answer.Answer,
                    sources = answer.Sources.Select(s => new { number = s.Number, source = s.Source, chunk = s.Chunk, text = s.Text, score = s.Score, cited = answer.Cited.Contains(s.Number) }),
                }));
                return 0;
            }
            Console.WriteLine(answer.Answer.Trim());
            Console.WriteLine();
            Console.WriteLine("Sources:");
            foreach (var s in answer.Sources)
                Console.WriteLine($"[{s.Number}]{(answer.Cited.Contains(s.Number) ? "*" : " ")} {s.Source} (chunk {s.Chunk}): {RagCommand.OneLine(s.Text, 120)}");
            Console.Error.WriteLine($"[retrieval {answer.RetrievalSeconds * 1000:F0} ms, generation {answer.GenerationSeconds * 1000:F0} ms; * = cited]");
            return 0;
        }));
        return command;
    }
}
