using System.Text.Json;
using Dclm.Formats.Gguf;

namespace Dclm.Checkpoints;

/// <summary>
/// Finds a model's Jinja chat template: <c>tokenizer_config.json</c> beside a checkpoint, or GGUF
/// <c>tokenizer.chat_template</c>. Models may also name extra templates (a list of name/template pairs in
/// <c>tokenizer_config.json</c>, <c>tokenizer.chat_template.NAME</c> in GGUF, as llama.cpp writes them);
/// transformers renders with the one named "tool_use" when tools are passed.
/// </summary>
public static class ChatTemplateLoader
{
    /// <summary>The name of the template transformers uses when a request offers tools.</summary>
    public const string ToolUse = "tool_use";

    /// <summary>
    /// The template source, or null when the model has none: without <paramref name="name"/> the default one
    /// (named "default", or the first listed), with it only the template of that name.
    /// </summary>
    public static string? Read(string modelPath, string? name = null)
    {
        if (Directory.Exists(modelPath))
        {
            string config = Path.Combine(modelPath, "tokenizer_config.json");
            return File.Exists(config) ? FromTokenizerConfig(config, name) : null;
        }
        if (!File.Exists(modelPath)) return null;
        using var file = GgufFile.Open(modelPath);
        return file.TryGetString(GgufKey(name), out string? template) ? template : null;
    }

    /// <summary>
    /// Every template the model has, under its GGUF key: <c>tokenizer.chat_template</c> for the default one,
    /// <c>tokenizer.chat_template.NAME</c> for named ones (as llama.cpp's converter stores them).
    /// </summary>
    public static IReadOnlyList<(string Key, string Template)> All(string modelPath)
    {
        var all = new List<(string, string)>();
        if (Directory.Exists(modelPath))
        {
            string config = Path.Combine(modelPath, "tokenizer_config.json");
            if (!File.Exists(config)) return all;
            using var document = JsonDocument.Parse(File.ReadAllBytes(config));
            if (!document.RootElement.TryGetProperty("chat_template", out var template)) return all;
            if (template.ValueKind == JsonValueKind.String) all.Add((GgufKey(null), template.GetString()!));
            else if (template.ValueKind == JsonValueKind.Array)
            {
                if (FromTokenizerConfig(config, null) is { } main) all.Add((GgufKey(null), main));
                foreach (var item in template.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                        && name.GetString() is { Length: > 0 } text && text != "default" && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
                        && item.TryGetProperty("template", out var body) && body.ValueKind == JsonValueKind.String)
                        all.Add((GgufKey(text), body.GetString()!));
            }
            return all;
        }
        if (!File.Exists(modelPath)) return all;
        using var file = GgufFile.Open(modelPath);
        foreach (var (key, _) in file.Metadata)
            if ((key == GgufKey(null) || key.StartsWith(GgufKey(null) + ".", StringComparison.Ordinal)) && file.TryGetString(key, out string? text)) all.Add((key, text!));
        return all;
    }

    private static string GgufKey(string? name) => name is null ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;

    private static string? FromTokenizerConfig(string path, string? name)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        if (!document.RootElement.TryGetProperty("chat_template", out var template)) return null;
        if (template.ValueKind == JsonValueKind.String) return name is null ? template.GetString() : null;
        // Newer configs list named templates; the one named "default" (or the first) is the chat one.
        if (template.ValueKind != JsonValueKind.Array) return null;
        string? first = null;
        foreach (var item in template.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("template", out var body) || body.ValueKind != JsonValueKind.String) continue;
            first ??= body.GetString();
            if (item.TryGetProperty("name", out var itemName) && itemName.ValueKind == JsonValueKind.String && itemName.GetString() == (name ?? "default")) return body.GetString();
        }
        return name is null ? first : null;
    }
}
