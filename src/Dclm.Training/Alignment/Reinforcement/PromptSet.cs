using System.Text.Json;
using Dclm.Tokenizers;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>A prompt to sample completions for.</summary>
/// <param name="Text">The prompt as written.</param>
/// <param name="Tokens">Its tokens, as a generation prompt starts (the beginning-of-sequence token where the model adds one).</param>
/// <param name="Line">Its line in the prompts file.</param>
public sealed record RolloutPrompt(string Text, int[] Tokens, int Line);

/// <summary>Reads a prompts file: one JSON object <c>{"prompt": "..."}</c> a line (other fields are ignored; blank lines are skipped).</summary>
public static class PromptSet
{
    /// <summary>The prompts of <paramref name="path"/>; a bad line is an error naming the file, the line and the field.</summary>
    public static List<RolloutPrompt> Read(string path, Tokenizer tokenizer, CancellationToken cancellation = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such prompts file");
        var prompts = new List<RolloutPrompt>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            cancellation.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(line)) continue;
            string text;
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}:{number}: expected a JSON object {{\"prompt\": \"...\"}}");
                if (!document.RootElement.TryGetProperty("prompt", out var prompt)) throw new InvalidDataException($"{path}:{number}: prompt: missing");
                if (prompt.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}:{number}: prompt: expected a string, found {prompt.ValueKind.ToString().ToLowerInvariant()}");
                text = prompt.GetString()!;
            }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{number}: not valid JSON ({e.Message})"); }
            if (text.Length == 0) throw new InvalidDataException($"{path}:{number}: prompt: empty");
            var tokens = tokenizer.EncodePrompt(text);
            if (tokens.Length == 0) throw new InvalidDataException($"{path}:{number}: prompt: no tokens");
            prompts.Add(new RolloutPrompt(text, tokens, number));
        }
        if (prompts.Count == 0) throw new InvalidDataException($"{path}: no prompts");
        return prompts;
    }
}
