using System.Text.Json;
using Dclm.Tokenizers;

namespace Dclm.Training.FineTuning.Data;

/// <summary>Which fine-tuning format a line of data is in.</summary>
public enum ExampleFormat
{
    /// <summary><c>{"messages": [{"role": ..., "content": ...}, ...]}</c>: loss on the assistants' replies.</summary>
    Messages,
    /// <summary><c>{"prompt": ..., "completion": ...}</c>: loss on the completion and the end of sequence.</summary>
    PromptCompletion,
    /// <summary><c>{"text": ...}</c>: continued pretraining, loss on every token.</summary>
    Text,
}

/// <summary>
/// Reads fine-tuning data from JSON lines, the format detected line by line as the fine-tuning APIs users know
/// define them. Every problem is an <see cref="InvalidDataException"/> naming the file, the line and the field.
/// </summary>
public sealed class ExampleReader(Tokenizer tokenizer, IChatRenderer? chat)
{
    private static readonly string[] Roles = ["system", "user", "assistant"];

    /// <summary>Every example of <paramref name="path"/>, with a count of each format seen.</summary>
    public (List<FineTuningExample> Examples, Dictionary<ExampleFormat, int> Formats) Read(string path, CancellationToken cancellation = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        var examples = new List<FineTuningExample>();
        var formats = new Dictionary<ExampleFormat, int>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if ((number & 255) == 0) cancellation.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                var (example, format) = Parse(line, number);
                examples.Add(example);
                formats[format] = formats.GetValueOrDefault(format) + 1;
            }
            catch (FormatException e) { throw new InvalidDataException($"{path}:{number}: {e.Message}", e); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{number}: not valid JSON ({e.Message})", e); }
        }
        if (examples.Count == 0) throw new InvalidDataException($"{path}: no examples (expected JSON lines with \"messages\", \"prompt\"/\"completion\" or \"text\")");
        return (examples, formats);
    }

    /// <summary>One line: its example and format; a <see cref="FormatException"/> names the field that is wrong.</summary>
    public (FineTuningExample Example, ExampleFormat Format) Parse(string line, int number)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("each line must be a JSON object");
        bool messages = root.TryGetProperty("messages", out var messageArray);
        bool prompt = root.TryGetProperty("prompt", out var promptValue), completion = root.TryGetProperty("completion", out var completionValue);
        bool text = root.TryGetProperty("text", out var textValue);
        int kinds = (messages ? 1 : 0) + (prompt || completion ? 1 : 0) + (text ? 1 : 0);
        if (kinds == 0) throw new FormatException($"no \"messages\", \"prompt\"/\"completion\" or \"text\" field (found: {Fields(root)})");
        if (kinds > 1) throw new FormatException($"mixes formats ({Fields(root)}); a line holds \"messages\", or \"prompt\" and \"completion\", or \"text\"");
        if (messages) return (Conversation(Messages(messageArray, "messages"), number), ExampleFormat.Messages);
        if (text) return (Plain([], String(textValue, "text"), number, ExampleFormat.Text), ExampleFormat.Text);
        if (!prompt) throw new FormatException("prompt: missing (a \"completion\" needs its \"prompt\")");
        if (!completion) throw new FormatException("completion: missing (a \"prompt\" needs its \"completion\")");
        return (PromptCompletion(String(promptValue, "prompt", allowEmpty: true), String(completionValue, "completion"), number), ExampleFormat.PromptCompletion);
    }

    /// <summary>
    /// A conversation rendered with the model's chat template, learned on its assistant messages marked learned; a
    /// <see cref="FormatException"/> names what is wrong.
    /// </summary>
    public FineTuningExample Conversation(IReadOnlyList<ChatMessage> messages, int number)
    {
        if (chat is null) throw new FormatException("messages: the model has no chat template to render conversations with");
        if (!messages.Any(m => m.Role == "assistant" && m.Learned)) throw new FormatException("messages: no assistant message to learn (with weight 1)");
        return new ChatExampleBuilder(tokenizer, chat).Build(messages, number);
    }

    /// <summary>
    /// A JSON array of {"role", "content"[, "weight"]} objects as messages; <paramref name="field"/> names it in errors.
    /// </summary>
    public static List<ChatMessage> Messages(JsonElement array, string field)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new FormatException($"{field}: must be an array of {{\"role\", \"content\"}} objects");
        var list = new List<ChatMessage>();
        int index = 0;
        foreach (var message in array.EnumerateArray())
        {
            string where = $"{field}[{index}]";
            if (message.ValueKind != JsonValueKind.Object) throw new FormatException($"{where}: must be an object with \"role\" and \"content\"");
            if (!message.TryGetProperty("role", out var role)) throw new FormatException($"{where}.role: missing");
            string roleName = String(role, where + ".role");
            if (!Roles.Contains(roleName)) throw new FormatException($"{where}.role: '{roleName}' is not one of {string.Join(", ", Roles)}");
            if (!message.TryGetProperty("content", out var content)) throw new FormatException($"{where}.content: missing");
            bool learned = true;
            if (message.TryGetProperty("weight", out var weight))
            {
                if (roleName != "assistant") throw new FormatException($"{where}.weight: only assistant messages take a weight");
                if (weight.ValueKind != JsonValueKind.Number || !weight.TryGetInt32(out int w) || w is not (0 or 1)) throw new FormatException($"{where}.weight: must be 0 or 1");
                learned = w == 1;
            }
            list.Add(new ChatMessage(roleName, String(content, where + ".content", allowEmpty: roleName != "assistant"), learned));
            index++;
        }
        if (list.Count == 0) throw new FormatException($"{field}: empty");
        return list;
    }

    /// <summary>The prompt's tokens (seen, not learned) then the completion's and the end of sequence (learned).</summary>
    public FineTuningExample PromptCompletion(string prompt, string completion, int number)
    {
        var tokens = new List<int>();
        var learned = new List<bool>();
        tokenizer.AppendSequenceStart(tokens);
        tokenizer.Encode(prompt, tokens);
        learned.AddRange(Enumerable.Repeat(false, tokens.Count));
        return Plain(tokens, completion, number, ExampleFormat.PromptCompletion, learned);
    }

    /// <summary><paramref name="tokens"/> (with their <paramref name="learned"/> flags) then <paramref name="text"/> and the end of sequence, learned.</summary>
    private FineTuningExample Plain(List<int> tokens, string text, int number, ExampleFormat format, List<bool>? learned = null)
    {
        learned ??= [];
        if (tokens.Count == 0)
        {
            tokenizer.AppendSequenceStart(tokens);
            learned.AddRange(Enumerable.Repeat(false, tokens.Count));
        }
        int before = tokens.Count;
        tokenizer.Encode(text, tokens);
        if (tokenizer.EndOfSequenceId is int eos) tokens.Add(eos);
        learned.AddRange(Enumerable.Repeat(true, tokens.Count - before));
        return new FineTuningExample([.. tokens], [.. learned], number, format);
    }

    /// <summary>A JSON string field's text; <paramref name="field"/> names it in errors.</summary>
    public static string String(JsonElement value, string field, bool allowEmpty = false)
    {
        if (value.ValueKind != JsonValueKind.String) throw new FormatException($"{field}: must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}");
        string text = value.GetString()!;
        if (!allowEmpty && text.Length == 0) throw new FormatException($"{field}: empty");
        return text;
    }

    private static string Fields(JsonElement root)
    {
        var names = root.EnumerateObject().Select(p => $"\"{p.Name}\"").ToList();
        return names.Count == 0 ? "no fields" : string.Join(", ", names);
    }
}
