using System.Diagnostics;
using System.Text.RegularExpressions;
using Dclm.Embeddings;
using Dclm.Rag.Search;
using Microsoft.Extensions.AI;

namespace Dclm.Rag.Answers;

/// <summary>Settings of one grounded answer.</summary>
public sealed record AskOptions
{
    /// <summary>Chunks retrieved.</summary>
    public int TopK { get; init; } = 5;
    /// <summary>How they are ranked.</summary>
    public SearchMode Mode { get; init; } = SearchMode.Hybrid;
    /// <summary>Most tokens in the answer.</summary>
    public int MaxAnswerTokens { get; init; } = 256;
    /// <summary>Sampling temperature (0: greedy, reproducible).</summary>
    public float Temperature { get; init; }
}

/// <summary>An answer with the sources it was given and the ones it cites.</summary>
/// <param name="Answer">The model's text.</param>
/// <param name="Sources">The numbered sources in the prompt.</param>
/// <param name="Cited">The source numbers the answer cites, in first-cited order (only numbers that exist).</param>
/// <param name="RetrievalSeconds">Embedding the question and searching.</param>
/// <param name="GenerationSeconds">Prompt and answer through the model.</param>
public sealed record GroundedAnswer(string Answer, IReadOnlyList<Citation> Sources, IReadOnlyList<int> Cited, double RetrievalSeconds, double GenerationSeconds);

/// <summary>
/// Retrieval-augmented answers: retrieve from <paramref name="index"/>, build the grounded prompt, ask
/// <paramref name="chat"/> (any Microsoft.Extensions.AI chat client: our engine in process, or a server).
/// </summary>
public sealed partial class GroundedAnswerer(RagIndex index, ITextEmbedder? embedder, IChatClient chat, int contextTokens, Func<string, int> countTokens)
{
    /// <summary>Answers <paramref name="question"/> from the index.</summary>
    public async Task<GroundedAnswer> AskAsync(string question, AskOptions options, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var hits = index.Search(question, options.TopK, options.Mode, embedder);
        double retrieval = clock.Elapsed.TotalSeconds;
        var prompt = GroundedPrompt.ForContext(question, hits, contextTokens, options.MaxAnswerTokens, countTokens);
        var sources = prompt.Sources;
        clock.Restart();
        var response = await chat.GetResponseAsync(prompt.ToChatMessages(), new ChatOptions { MaxOutputTokens = options.MaxAnswerTokens, Temperature = options.Temperature }, cancellationToken);
        return new GroundedAnswer(response.Text, sources, Cited(response.Text, sources.Count), retrieval, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The source numbers cited in <paramref name="answer"/> as [n] or [n, m], first-cited order, limited to 1..<paramref name="sourceCount"/>.</summary>
    public static IReadOnlyList<int> Cited(string answer, int sourceCount)
    {
        var cited = new List<int>();
        foreach (Match match in CitationPattern().Matches(answer))
            foreach (var part in match.Groups[1].Value.Split(','))
                if (int.TryParse(part.Trim(), out int number) && number >= 1 && number <= sourceCount && !cited.Contains(number))
                    cited.Add(number);
        return cited;
    }

    [GeneratedRegex(@"\[(\d+(?:\s*,\s*\d+)*)\]")]
    private static partial Regex CitationPattern();
}
