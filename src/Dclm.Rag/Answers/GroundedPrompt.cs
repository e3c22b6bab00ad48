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
/// Retrieved chunks put into a chat for the model's own chat template to render: a system instruction to answer
/// only from the numbered sources and to cite them as [n], and a user message with the sources and the question.
/// The sources are cut to share a token budget, so the prompt always fits the context.
/// </summary>
/// <param name="Instruction">The system message (<see cref="SystemInstruction"/>).</param>
/// <param name="UserMessage">The numbered sources, then the question.</param>
/// <param name="Sources">The sources as numbered in <paramref name="UserMessage"/>.</param>
public sealed record GroundedPrompt(string Instruction, string UserMessage, IReadOnlyList<Citation> Sources)
{
    /// <summary>The instruction given as the system message.</summary>
    public const string SystemInstruction =
        "Answer the question using only the numbered sources. Cite each source you use by its number in brackets, like [1]. "
        + "If the sources do not contain the answer, say that you do not know.";

    /// <summary>Tokens set aside for what a chat template adds around two messages (role markers, newlines).</summary>
    public const int TemplateAllowance = 24;

    /// <summary>The system and user messages.</summary>
    public List<ChatMessage> ToChatMessages() => [new(ChatRole.System, Instruction), new(ChatRole.User, UserMessage)];

    /// <summary>
    /// The prompt for <paramref name="question"/> over <paramref name="hits"/> (best first) in a context of
    /// <paramref name="contextTokens"/> that must leave <paramref name="answerTokens"/> for the answer:
    /// the sources share what the instruction, the question and the template's markers leave.
    /// </summary>
    /// <exception cref="ArgumentException">The context leaves no room for any source.</exception>
    public static GroundedPrompt ForContext(string question, IReadOnlyList<SearchHit> hits, int contextTokens, int answerTokens, Func<string, int> countTokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        int fixedTokens = countTokens(SystemInstruction) + countTokens(Message([], question)) + TemplateAllowance;
        int budget = contextTokens - answerTokens - fixedTokens;
        if (budget <= 0)
            throw new ArgumentException($"the model's context of {contextTokens} tokens leaves no room for sources after the question and a {answerTokens}-token answer");
        return Build(question, hits, budget, countTokens);
    }

    /// <summary>
    /// The prompt for <paramref name="question"/> whose sources take at most <paramref name="sourceTokens"/>
    /// tokens by <paramref name="countTokens"/> (the model's tokenizer): each source may use an equal share of
    /// what is left when its turn comes, so short sources go in whole and the best ones are cut least; a source
    /// that would get fewer than 8 tokens is left out.
    /// </summary>
    public static GroundedPrompt Build(string question, IReadOnlyList<SearchHit> hits, int sourceTokens, Func<string, int> countTokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        var sources = new List<Citation>();
        int remaining = sourceTokens;
        for (int i = 0; i < hits.Count && remaining > 0; i++)
        {
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
        return new GroundedPrompt(SystemInstruction, Message(sources, question), sources);
    }

    /// <summary>The user message: the numbered sources, then the question.</summary>
    public static string Message(IReadOnlyList<Citation> sources, string question) =>
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
