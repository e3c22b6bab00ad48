using Dclm.Tokenizers;
using Dclm.Training.Alignment;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Tests.Alignment;

/// <summary>Preference data in TRL's layout: strings and message lists, the implicit prompt, and errors naming line and field.</summary>
public class PreferenceDataTests
{
    private static readonly Tokenizer NeoX = ChatFixtures.LoadNeoX();

    private static string Write(params string[] lines) => ChatFixtures.WriteLines("prefs.jsonl", lines);

    private static string Learned(FineTuningExample e) => ChatFixtures.Learned(NeoX, e);
    private static string Seen(FineTuningExample e) => ChatFixtures.Seen(NeoX, e);

    [Fact]
    public void StringsAndConversationsReadAsPromptPlusLearnedCompletion()
    {
        string path = Write(
            """{"prompt": "Q: 2+2?\nA:", "chosen": " 4.", "rejected": " 5"}""",
            "",
            """{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello."}], "rejected": [{"role": "assistant", "content": "Go away"}]}""",
            """{"chosen": [{"role": "user", "content": "Name a fruit"}, {"role": "assistant", "content": "A pear."}], "rejected": [{"role": "user", "content": "Name a fruit"}, {"role": "assistant", "content": "No"}]}""");
        var pairs = new PreferenceReader(NeoX, new ChatMlRenderer("<|im_end|>")).Read(path);
        Assert.Equal([1, 3, 4], pairs.Select(p => p.Line));
        int eos = NeoX.EndOfSequenceId!.Value;
        Assert.Equal(NeoX.Encode("Q: 2+2?\nA:").Concat(NeoX.Encode(" 4.")).Append(eos), pairs[0].Chosen.Tokens);
        Assert.Equal(" 4.<|endoftext|>", Learned(pairs[0].Chosen));
        Assert.Equal(" 5<|endoftext|>", Learned(pairs[0].Rejected));
        Assert.Equal("Q: 2+2?\nA:", Seen(pairs[0].Rejected));
        // A conversation learns the assistant's reply and its end-of-turn marker, never the prompt's turns.
        Assert.Equal("Hello.<|im_end|>", Learned(pairs[1].Chosen));
        Assert.Equal("Go away<|im_end|>", Learned(pairs[1].Rejected));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", Seen(pairs[1].Chosen));
        // Without a prompt the shared turns are context and only the last assistant message is learned.
        Assert.Equal("A pear.<|im_end|>", Learned(pairs[2].Chosen));
        Assert.Equal("No<|im_end|>", Learned(pairs[2].Rejected));
    }

    [Theory]
    [InlineData("""{"prompt": "x", "chosen": " a"}""", ":1: rejected: missing")]
    [InlineData("""{"prompt": "x", "rejected": " a"}""", ":1: chosen: missing")]
    [InlineData("""{"chosen": " a", "rejected": " b"}""", ":1: prompt: missing")]
    [InlineData("""{"prompt": "x", "chosen": " a", "rejected": [{"role": "assistant", "content": "b"}]}""", ":1: chosen and rejected must both be strings or both message lists")]
    [InlineData("""{"prompt": "x", "chosen": "", "rejected": " b"}""", ":1: chosen: empty")]
    [InlineData("""{"prompt": "x", "chosen": " a", "rejected": " a"}""", ":1: chosen and rejected are the same text")]
    [InlineData("""{"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "robot", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}""", ":1: chosen[0].role: 'robot' is not one of")]
    [InlineData("""{"chosen": [{"role": "user", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}""", ":1: chosen[0].role: the last message must be the assistant's")]
    [InlineData("""{"prompt": 3, "chosen": " a", "rejected": " b"}""", ":1: prompt: must be a string")]
    [InlineData("""[1, 2]""", ":1: each line must be a JSON object")]
    [InlineData("""{"prompt": "x", "chosen": " a", """, ":1: not valid JSON")]
    public void BadLinesAreRefusedNamingTheLineAndField(string line, string expected)
    {
        string path = Write("""{"prompt": "ok", "chosen": " yes", "rejected": " no"}""", line);
        var error = Assert.Throws<InvalidDataException>(() => new PreferenceReader(NeoX, new ChatMlRenderer("<|im_end|>")).Read(path));
        Assert.Contains(path + expected.Replace(":1:", ":2:"), error.Message);
    }

    [Fact]
    public void ConversationsNeedAChatTemplateAndAFileNeedsPairs()
    {
        string conversation = Write("""{"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}""");
        var error = Assert.Throws<InvalidDataException>(() => new PreferenceReader(NeoX, null).Read(conversation));
        Assert.Contains(":1: chosen: messages: the model has no chat template", error.Message);
        var empty = Assert.Throws<InvalidDataException>(() => new PreferenceReader(NeoX, null).Read(Write("", " ")));
        Assert.Contains("no preference pairs", empty.Message);
        Assert.Throws<FileNotFoundException>(() => new PreferenceReader(NeoX, null).Read("/nonexistent/prefs.jsonl"));
    }
}
