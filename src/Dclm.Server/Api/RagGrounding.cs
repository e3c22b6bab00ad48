using System.Diagnostics;
using Dclm.Chat;
using Dclm.Rag.Answers;
using Dclm.Rag.Search;
using Dclm.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>
/// The chat extension <c>"rag": {"index", "top_k", "mode"}</c>: the last user message is the question; its best chunks
/// are retrieved from the index and put into the conversation (an instruction to answer from numbered sources and cite
/// them as [n], merged into the system message, and the sources before the question), cut to share the context the
/// conversation and the answer leave.
/// </summary>
internal static class RagGrounding
{
    /// <summary>Most chunks one request may retrieve.</summary>
    public const int MaxTopK = 50;

    // Tokens kept free beyond the measured prompt: sources are counted one by one, and text tokenizes a little
    // differently when joined.
    private const int Margin = 8;

    /// <summary>The grounded conversation and what the response reports.</summary>
    public sealed record Grounded(List<ChatTurn> Messages, RagResponseDto Response, int SourceCount);

    public static Grounded Ground(RagRequestDto request, List<ChatTurn> messages, RetrievalHost retrieval, ModelHost host, int contextLength, int? answerTokens)
    {
        var index = Index(request.Index, retrieval);
        int topK = request.TopK ?? 5;
        if (topK < 1 || topK > MaxTopK) throw ApiException.BadRequest($"rag.top_k = {topK} must lie in [1, {MaxTopK}]", "rag");
        var mode = request.Mode switch
        {
            null or "hybrid" => SearchMode.Hybrid,
            "bm25" => SearchMode.Bm25,
            "dense" => SearchMode.Dense,
            _ => throw ApiException.BadRequest($"rag.mode '{request.Mode}' is not one of hybrid, bm25, dense", "rag"),
        };
        var last = messages[^1];
        if (last.Role != "user" || string.IsNullOrWhiteSpace(last.Content))
            throw ApiException.BadRequest("with rag, the last message must be the user's question", "messages");

        var clock = Stopwatch.StartNew();
        var hits = index.Index.Search(last.Content, topK, mode, index.Embedder);
        double retrievalMs = clock.Elapsed.TotalMilliseconds;

        // The answer's room: what the request asks for, else a quarter of the context (at most 256 tokens).
        int reserved = answerTokens ?? Math.Min(256, contextLength / 4);
        int fixedTokens = host.EncodeChat(Compose(messages, GroundedPrompt.Build(last.Content, [], 0, _ => 0))).Ids.Length;
        int budget = contextLength - reserved - fixedTokens - Margin;
        if (budget <= 0)
            throw ApiException.BadRequest($"the conversation ({fixedTokens} tokens) and a {reserved}-token answer leave no room for sources in the context of {contextLength}", "messages");
        var tokenizer = host.Tokenizer!;
        var prompt = GroundedPrompt.Build(last.Content, hits, budget, text => tokenizer.Encode(text).Length);
        var response = new RagResponseDto
        {
            Index = index.Name, RetrievalMs = Math.Round(retrievalMs, 3),
            Citations = prompt.Sources.Select(s => new CitationDto { Number = s.Number, Source = s.Source, Chunk = s.Chunk, Text = s.Text, Score = s.Score }).ToList(),
        };
        return new Grounded(Compose(messages, prompt), response, prompt.Sources.Count);
    }

    /// <summary>The source numbers <paramref name="reply"/> cites.</summary>
    public static List<int> Cited(string reply, int sourceCount) => [.. GroundedAnswerer.Cited(reply, sourceCount)];

    private static ServedIndex Index(string? name, RetrievalHost retrieval)
    {
        if (retrieval.Indexes.Count == 0 && retrieval.Loading.IsCompleted)
            throw ApiException.BadRequest("this server has no index; start it with --rag-index PATH", "rag");
        if (!retrieval.IsReady)
            throw new ApiException(StatusCodes.Status503ServiceUnavailable,
                retrieval.LoadError is null ? "the indexes are still loading; retry shortly" : $"the indexes failed to load: {retrieval.LoadError}", code: "model_not_ready");
        string wanted = name ?? (retrieval.Indexes.Count == 1 ? retrieval.Indexes.Keys.First() : "default");
        return retrieval.Indexes.TryGetValue(wanted, out var index) ? index
            : throw ApiException.BadRequest($"rag.index '{(wanted.Length <= 100 ? wanted : wanted[..100] + "…")}' does not exist; this server has {string.Join(", ", retrieval.Indexes.Keys.Select(k => $"'{k}'"))}", "rag");
    }

    // The instruction joins the system message (or becomes one); the sources and the question replace the last message.
    private static List<ChatTurn> Compose(List<ChatTurn> messages, GroundedPrompt prompt)
    {
        var result = new List<ChatTurn>(messages.Count + 1);
        if (messages[0].Role == "system") result.Add(messages[0] with { Content = messages[0].Content + "\n\n" + prompt.Instruction });
        else result.Add(new ChatTurn("system", prompt.Instruction));
        for (int i = messages[0].Role == "system" ? 1 : 0; i < messages.Count - 1; i++) result.Add(messages[i]);
        result.Add(messages[^1] with { Content = prompt.UserMessage });
        return result;
    }
}
