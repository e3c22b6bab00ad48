using System.Text.Json;
using Dclm.Formats.Gguf;

namespace Dclm.Server.Chat;

/// <summary>Finds a model's Jinja chat template: <c>tokenizer_config.json</c> beside a checkpoint, or GGUF <c>tokenizer.chat_template</c>.</summary>
public static class ChatTemplateLoader
{
    /// <summary>The template source, or null when the model has none.</summary>
    public static string? Read(string modelPath)
    {
        if (Directory.Exists(modelPath))
        {
            string config = Path.Combine(modelPath, "tokenizer_config.json");
            return File.Exists(config) ? FromTokenizerConfig(config) : null;
        }
        if (!File.Exists(modelPath)) return null;
        using var file = GgufFile.Open(modelPath);
        return file.TryGetString("tokenizer.chat_template", out string? template) ? template : null;
    }

    private static string? FromTokenizerConfig(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        if (!document.RootElement.TryGetProperty("chat_template", out var template)) return null;
        if (template.ValueKind == JsonValueKind.String) return template.GetString();
        // Newer configs list named templates; the one named "default" (or the first) is the chat one.
        if (template.ValueKind != JsonValueKind.Array) return null;
        string? first = null;
        foreach (var item in template.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("template", out var body) || body.ValueKind != JsonValueKind.String) continue;
            first ??= body.GetString();
            if (item.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == "default") return body.GetString();
        }
        return first;
    }
}
