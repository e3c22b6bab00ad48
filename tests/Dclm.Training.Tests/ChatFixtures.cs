using Dclm.Formats.Gguf;
using Dclm.Tokenizers;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Tests;

/// <summary>What the chat-data tests share: the GPT-NeoX-20B vocabulary fixture, JSONL files, and the decoded halves of an example.</summary>
internal static class ChatFixtures
{
    /// <summary>The GPT-NeoX-20B vocabulary (a GGUF holding only the tokenizer).</summary>
    public static string NeoXVocabularyPath => Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf");

    /// <summary>A tokenizer of its own for each caller (test classes run in parallel).</summary>
    public static Tokenizer LoadNeoX()
    {
        using var file = GgufFile.Open(NeoXVocabularyPath);
        return Tokenizer.FromGguf(file);
    }

    /// <summary>Writes <paramref name="lines"/> to <paramref name="fileName"/> in a new temporary directory.</summary>
    public static string WriteLines(string fileName, params string[] lines)
    {
        string path = Path.Combine(TrainingFixtures.TemporaryDirectory(), fileName);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>The text of the tokens the loss learns.</summary>
    public static string Learned(Tokenizer tokenizer, FineTuningExample example) =>
        tokenizer.Decode(example.Tokens.Where((_, i) => example.Learned[i]).ToArray());

    /// <summary>The text of the tokens the model only sees.</summary>
    public static string Seen(Tokenizer tokenizer, FineTuningExample example) =>
        tokenizer.Decode(example.Tokens.Where((_, i) => !example.Learned[i]).ToArray());
}

/// <summary>ChatML written out by hand, as a Qwen template renders it, for the loaders' span logic.</summary>
internal sealed class ChatMlRenderer(params string[] endOfTurnMarkers) : IChatRenderer
{
    public IReadOnlyList<string> EndOfTurnMarkers => endOfTurnMarkers;
    public bool WritesBeginningOfSequence => false;
    public IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages)
    {
        var segments = new List<ChatSegment>();
        foreach (var m in messages)
        {
            segments.Add(new($"<|im_start|>{m.Role}\n", true));
            segments.Add(new(m.Content, false));
            segments.Add(new("<|im_end|>\n", true));
        }
        segments.Add(new("<|im_start|>assistant\n", true));
        return segments;
    }
}
