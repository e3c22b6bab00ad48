using Dclm.Formats.Gguf;
using Dclm.Tokenizers;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Tests;

/// <summary>Fine-tuning data: formats detected per line, loss masks, errors that name the line and field, and packing.</summary>
public class FineTuningDataTests
{
    private static readonly Tokenizer NeoX = ChatFixtures.LoadNeoX();

    private static string Write(params string[] lines) => ChatFixtures.WriteLines("data.jsonl", lines);

    private static string Learned(FineTuningExample e) => ChatFixtures.Learned(NeoX, e);

    [Fact]
    public void EachLineIsReadInItsOwnFormat()
    {
        string path = Write(
            """{"prompt": "Q: 2+2?\nA:", "completion": " 4"}""",
            "",
            """{"text": "The whale surfaced."}""",
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}""");
        var (examples, formats) = new ExampleReader(NeoX, new ChatMlRenderer("<|im_end|>", "<|endoftext|>")).Read(path);
        Assert.Equal(3, examples.Count);
        Assert.Equal([1, 1, 1], formats.Values.ToArray());
        int eos = NeoX.EndOfSequenceId!.Value;

        var pair = examples[0];
        Assert.Equal(NeoX.Encode("Q: 2+2?\nA:").Concat(NeoX.Encode(" 4")).Append(eos), pair.Tokens);
        Assert.Equal(" 4<|endoftext|>", Learned(pair));
        Assert.Equal(1, pair.Line);

        var text = examples[1];
        Assert.Equal(NeoX.Encode("The whale surfaced.").Append(eos), text.Tokens);
        Assert.All(text.Learned, Assert.True);
        Assert.Equal(3, text.Line);

        // The reply and the marker that ends it are learned; the system and user turns only seen.
        var chat = examples[2];
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>", NeoX.Decode(chat.Tokens));
        Assert.Equal("Hello!<|im_end|>", Learned(chat));
    }

    /// <summary>
    /// Every format starts an example as <c>Tokenizer.EncodePrompt</c> starts a prompt, so fine-tuning sees the first tokens
    /// generation will: with Llama's SentencePiece vocabulary (a beginning-of-sequence id, never learned) and GPT-NeoX's (none).
    /// </summary>
    [Theory]
    [InlineData("llama-spm.vocab.gguf", true)]
    [InlineData("gpt-neox-20b.vocab.gguf", false)]
    public void ExamplesStartAsTheTokenizerStartsAPrompt(string vocabulary, bool addsBeginning)
    {
        using var file = GgufFile.Open(Path.Combine(AppContext.BaseDirectory, "fixtures", vocabulary));
        var tokenizer = Tokenizer.FromGguf(file);
        Assert.Equal(addsBeginning, tokenizer.EncodePrompt("x").Length > tokenizer.Encode("x").Length);
        string path = Write(
            """{"prompt": "Q: 2+2?\nA:", "completion": " 4"}""",
            """{"text": "The whale surfaced."}""",
            """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}""");
        var examples = new ExampleReader(tokenizer, new ChatMlRenderer("<|im_end|>", "<|endoftext|>")).Read(path).Examples;
        int start = addsBeginning ? 1 : 0;
        int[] prompt = tokenizer.EncodePrompt("Q: 2+2?\nA:");
        Assert.Equal(prompt, examples[0].Tokens.Take(prompt.Length));
        Assert.All(examples[0].Learned.Take(prompt.Length), Assert.False);
        int[] text = tokenizer.EncodePrompt("The whale surfaced.");
        Assert.Equal(text, examples[1].Tokens.Take(text.Length));
        Assert.All(examples[1].Learned.Take(start), Assert.False);
        Assert.All(examples[1].Learned.Skip(start), Assert.True);
        foreach (var example in examples)
        {
            Assert.Equal(start, example.Tokens.TakeWhile(t => t == tokenizer.BeginningOfSequenceId).Count());
            Assert.All(example.Learned.Take(start), Assert.False);
        }
    }

    [Fact]
    public void EveryLearnedReplyOfAConversationIsMaskedInAndWeightZeroOut()
    {
        string path = Write("""{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "one", "weight": 0}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "two"}, {"role": "user", "content": "c"}, {"role": "assistant", "content": "three"}]}""");
        var example = new ExampleReader(NeoX, new ChatMlRenderer("<|im_end|>", "<|endoftext|>")).Read(path).Examples[0];
        Assert.Equal("two<|im_end|>three<|im_end|>", Learned(example));
    }

    [Theory]
    [InlineData("""{"prompt": "x"}""", "data.jsonl:2: completion: missing")]
    [InlineData("""{"prompt": "x", "completion": 3}""", "data.jsonl:2: completion: must be a string, not number")]
    [InlineData("""{"prompt": "x", "completion": ""}""", "data.jsonl:2: completion: empty")]
    [InlineData("""{"text": "x", "prompt": "y", "completion": "z"}""", "data.jsonl:2: mixes formats")]
    [InlineData("""{"input": "x"}""", "data.jsonl:2: no \"messages\", \"prompt\"/\"completion\" or \"text\" field (found: \"input\")")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}]}""", "data.jsonl:2: messages: no assistant message to learn")]
    [InlineData("""{"messages": [{"role": "robot", "content": "x"}]}""", "data.jsonl:2: messages[0].role: 'robot' is not one of system, user, assistant")]
    [InlineData("""{"messages": [{"role": "assistant"}]}""", "data.jsonl:2: messages[0].content: missing")]
    [InlineData("""{"messages": [{"role": "user", "content": "q", "weight": 1}]}""", "data.jsonl:2: messages[0].weight: only assistant messages take a weight")]
    [InlineData("""[1, 2]""", "data.jsonl:2: each line must be a JSON object")]
    [InlineData("""{"text": "unterminated""", "data.jsonl:2: not valid JSON")]
    public void ABadLineIsAnErrorNamingTheFileLineAndField(string line, string expected)
    {
        string path = Write("""{"text": "fine"}""", line);
        var error = Assert.Throws<InvalidDataException>(() => new ExampleReader(NeoX, new ChatMlRenderer("<|im_end|>", "<|endoftext|>")).Read(path));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Fact]
    public void ConversationsNeedAChatTemplate()
    {
        string path = Write("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}""");
        var error = Assert.Throws<InvalidDataException>(() => new ExampleReader(NeoX, null).Read(path));
        Assert.Contains("data.jsonl:1: messages: the model has no chat template", error.Message);
    }

    [Fact]
    public void PackingKeepsDocumentsApartAndTheirPositionsFromZero()
    {
        FineTuningExample Example(int first, int length, ExampleFormat format = ExampleFormat.PromptCompletion) =>
            new(Enumerable.Range(first, length).ToArray(), Enumerable.Range(0, length).Select(i => i >= 2).ToArray(), first, format);
        // Three documents of 5, 4 and 6 tokens into sequences of 10, a text of 23 tokens in pieces, a pair cut to 10.
        var examples = new[] { Example(100, 5), Example(200, 4), Example(300, 6), Example(400, 23, ExampleFormat.Text), Example(500, 12) };
        var packed = new PackedExamples(examples, 10, seed: 3, padding: 7);
        Assert.Equal(1, packed.Truncated);
        Assert.Equal(7, packed.Documents);
        var batch = new TrainingBatch(packed.Count, 10);
        packed.Next(batch);
        Assert.True(batch.Masked && batch.Packed);
        var seen = new List<int>();
        for (int row = 0; row < packed.Count; row++)
            for (int p = 0; p < 10; p++)
            {
                int at = row * 10 + p, start = batch.DocumentStarts[at], token = batch.Inputs[at];
                Assert.InRange(start, 0, p);
                if (token == 7) { Assert.Equal(p, start); Assert.Equal(-1, batch.Targets[at]); continue; }
                seen.Add(token);
                // A document's tokens are consecutive from its start; the target is the next token of the same document.
                Assert.Equal(batch.Inputs[row * 10 + start] + (p - start), token);
                bool last = p + 1 == 10 || batch.DocumentStarts[at + 1] != start || batch.Inputs[at + 1] == 7;
                Assert.Equal(last ? -1 : token + 1, batch.Targets[at]);
                // Predicting token j + 1 of an example counts when j + 1 >= 2 (text pieces keep their example's flags).
                if (!last) Assert.Equal(token % 100 + 1 >= 2, batch.LossMask[at]);
            }
        Assert.Equal(5 + 4 + 6 + 23 + 10, seen.Count);
    }

    [Fact]
    public void TheStreamIsAPureFunctionOfTheSeedAndTheCursor()
    {
        var examples = Enumerable.Range(0, 30).Select(i => new FineTuningExample([i, i + 1, i + 2], [false, true, true], i, ExampleFormat.PromptCompletion)).ToArray();
        var first = new PackedExamples(examples, 8, seed: 11);
        var second = new PackedExamples(examples, 8, seed: 11);
        var a = new TrainingBatch(3, 8);
        var b = new TrainingBatch(3, 8);
        for (int i = 0; i < 5; i++) first.Next(a);
        second.Cursor = new Dclm.Training.Data.DataCursor(12, [12]);
        first.Cursor = new Dclm.Training.Data.DataCursor(12, [12]);
        first.Next(a);
        second.Next(b);
        Assert.Equal(a.Inputs, b.Inputs);
        Assert.Equal(a.LossMask, b.LossMask);
    }
}
