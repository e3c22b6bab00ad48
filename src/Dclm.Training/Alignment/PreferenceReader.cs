using System.Text.Json;
using Dclm.Tokenizers;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// Reads preference data in TRL's layout, one JSON object a line: <c>{"prompt", "chosen", "rejected"}</c> with strings
/// (the prompt continued by each completion) or chat message lists (the prompt's messages followed by each side's
/// assistant messages, rendered with the model's chat template); a conversational line may leave out "prompt" when
/// chosen and rejected carry the whole conversations (TRL's implicit prompt). Every problem is an
/// <see cref="InvalidDataException"/> naming the file, the line and the field.
/// </summary>
public sealed class PreferenceReader(Tokenizer tokenizer, IChatRenderer? chat)
{
    private readonly ExampleReader _examples = new(tokenizer, chat);

    /// <summary>Every pair of <paramref name="path"/>.</summary>
    public List<PreferencePair> Read(string path, CancellationToken cancellation = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        var pairs = new List<PreferencePair>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if ((number & 255) == 0) cancellation.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { pairs.Add(Parse(line, number)); }
            catch (FormatException e) { throw new InvalidDataException($"{path}:{number}: {e.Message}", e); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{number}: not valid JSON ({e.Message})", e); }
        }
        if (pairs.Count == 0) throw new InvalidDataException($"{path}: no preference pairs (expected JSON lines with \"prompt\", \"chosen\" and \"rejected\")");
        return pairs;
    }

    /// <summary>One line's pair; a <see cref="FormatException"/> names the field that is wrong.</summary>
    public PreferencePair Parse(string line, int number)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("each line must be a JSON object");
        if (!root.TryGetProperty("chosen", out var chosen)) throw new FormatException("chosen: missing");
        if (!root.TryGetProperty("rejected", out var rejected)) throw new FormatException("rejected: missing");
        bool hasPrompt = root.TryGetProperty("prompt", out var prompt);
        if (chosen.ValueKind != rejected.ValueKind || chosen.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            throw new FormatException($"chosen and rejected must both be strings or both message lists (chosen is {Kind(chosen)}, rejected {Kind(rejected)})");
        if (chosen.ValueKind == JsonValueKind.String)
        {
            if (!hasPrompt) throw new FormatException("prompt: missing (string completions need their prompt)");
            if (prompt.ValueKind != JsonValueKind.String) throw new FormatException($"prompt: must be a string like chosen and rejected, not {Kind(prompt)}");
            string text = ExampleReader.String(prompt, "prompt", allowEmpty: true);
            var sides = (ExampleReader.String(chosen, "chosen"), ExampleReader.String(rejected, "rejected"));
            if (sides.Item1 == sides.Item2) throw new FormatException("chosen and rejected are the same text");
            return new PreferencePair(_examples.PromptCompletion(text, sides.Item1, number), _examples.PromptCompletion(text, sides.Item2, number), number);
        }
        var context = new List<ChatMessage>();
        if (hasPrompt)
        {
            if (prompt.ValueKind != JsonValueKind.Array) throw new FormatException($"prompt: must be a message list like chosen and rejected, not {Kind(prompt)}");
            // The prompt's own assistant turns are context, not learned.
            context.AddRange(ExampleReader.Messages(prompt, "prompt").Select(m => m with { Learned = false }));
        }
        var chosenSide = Side(context, chosen, "chosen", hasPrompt);
        var rejectedSide = Side(context, rejected, "rejected", hasPrompt);
        if (chosenSide.SequenceEqual(rejectedSide)) throw new FormatException("chosen and rejected are the same conversation");
        return new PreferencePair(Conversation(chosenSide, "chosen", number), Conversation(rejectedSide, "rejected", number), number);
    }

    /// <summary>
    /// The conversation of one side: with a prompt, its messages after the prompt's (every assistant message learned);
    /// without, the whole list, learned only on its last message, which must be the assistant's.
    /// </summary>
    private static List<ChatMessage> Side(List<ChatMessage> context, JsonElement array, string field, bool hasPrompt)
    {
        var messages = ExampleReader.Messages(array, field);
        if (!hasPrompt)
        {
            if (messages[^1].Role != "assistant") throw new FormatException($"{field}[{messages.Count - 1}].role: the last message must be the assistant's (or give a \"prompt\")");
            return messages.Select((m, i) => m with { Learned = i == messages.Count - 1 }).ToList();
        }
        if (!messages.Any(m => m.Role == "assistant")) throw new FormatException($"{field}: holds no assistant message");
        return [.. context, .. messages];
    }

    private FineTuningExample Conversation(List<ChatMessage> messages, string field, int number)
    {
        try { return _examples.Conversation(messages, number); }
        catch (FormatException e) { throw new FormatException($"{field}: {e.Message}", e); }
    }

    private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant();
}
