using Dclm.Rag.Search;
using Microsoft.Extensions.AI;

namespace Dclm.Rag.Answers;

/// <summary>A retrieved chunk as the prompt numbers it: [Number] cites it.</summary>
/// <param name="Number">Its citation number, from 1.</param>
/// <param name="Source">The document's source (file path or JSONL id).</param>
/// <param name="Chunk">The chunk's position within its document.</param>
/// <param name="Text">The text the model was shown (possibly cut to fit the context).</param>
/// <param name="Score">Its retrieval score.</param>
public sealed record Citation(int Number, string Source, int Chunk, string Text, float Score);

/// <summary>
/// Puts retrieved chunks into chat messages that the model's own chat template then renders: a system
/// instruction to answer only from the numbered sources and to cite them as [n], and a user message
/// with the sources and the question. The sources are cut to share what the context leaves once the
/// instruction, the question and the answer's tokens are set aside, so the prompt always fits.
/// </summary>
public static class GroundedPrompt
{
    /// <summary>The instruction given as the system message.</summary>
    public const string Instruction =
        "Answer the question using only the numbered sources. Cite each source you use by its number in brackets, like [1]. "
        + "If the sources do not contain the answer, say that you do not know.";

    // Tokens set aside for what the chat template adds around the messages (role markers, newlines).
    private const int TemplateAllowance = 24;

    /// <summary>
    /// The messages for <paramref name="question"/> over <paramref name="hits"/> (best first) and the
    /// sources as numbered in them. <paramref name="contextTokens"/> is the model's window,
    /// <paramref name="answerTokens"/> what the answer may use, and <paramref name="countTokens"/> the
    /// model's tokenizer; a source that would get no room is left out.
    /// </summary>
    public static (List<ChatMessage> Messages, List<Citation> Sources) Build(
        string question, IReadOnlyList<SearchHit> hits, int contextTokens, int answerTokens, Func<string, int> countTokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        int fixedTokens = countTokens(Instruction) + countTokens(UserMessage([], question)) + TemplateAllowance;
        int budget = contextTokens - answerTokens - fixedTokens;
        if (budget <= 0)
            throw new ArgumentException($"the model's context of {contextTokens} tokens leaves no room for sources after the question and a {answerTokens}-token answer");
        var sources = new List<Citation>();
        int remaining = budget;
        for (int i = 0; i < hits.Count && remaining > 0; i++)
        {
            // Each source may use an equal share of what is left, so the best ones are cut least.
            int share = remaining / (hits.Count - i);
            string header = $"[{sources.Count + 1}] ";
            int room = share - countTokens(header) - 2;
            if (room < 8) continue;
            string text = Fit(hits[i].Chunk.Text.Trim(), room, countTokens);
            if (text.Length == 0) continue;
            var hit = hits[i];
            sources.Add(new Citation(sources.Count + 1, hit.Chunk.Source, hit.Chunk.Chunk, text, hit.Score));
            remaining -= countTokens(header + text) + 2;
        }
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, Instruction),
            new(ChatRole.User, UserMessage(sources, question)),
        };
        return (messages, sources);
    }

    private static string UserMessage(IReadOnlyList<Citation> sources, string question) =>
        "Sources:\n\n" + string.Concat(sources.Select(s => $"[{s.Number}] {s.Text}\n\n")) + "Question: " + question.Trim();

    // The longest prefix of whole words that holds at most `limit` tokens (binary search over word ends).
    private static string Fit(string text, int limit, Func<string, int> countTokens)
    {
        if (countTokens(text) <= limit) return text;
        var ends = new List<int>();
        for (int i = 1; i < text.Length; i++)
            if (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1])) ends.Add(i);
        int low = 0, high = ends.Count - 1, best = -1;
        while (low <= high)
        {
            int middle = (low + high) / 2;
            if (countTokens(text[..ends[middle]] + " …") <= limit) { best = middle; low = middle + 1; }
            else high = middle - 1;
        }
        return best < 0 ? "" : text[..ends[best]] + " …";
    }
}
