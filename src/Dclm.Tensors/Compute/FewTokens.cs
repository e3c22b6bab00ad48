namespace Dclm.Tensors.Compute;

/// <summary>
/// Where Q8_0/Q4_0 products switch kernels: one token runs the one-row kernels, 2 to <see cref="MaxTokens"/> − 1
/// tokens the few-token kernels (<c>DotQ4_0.Tokens*</c>, <c>DotQ8_0.Tokens*</c>: each weight block read and
/// unpacked once for all of them, every token's bits those of the one-row kernel), and from <see cref="MaxTokens"/>
/// the GEMM tile kernels, which sum in another order. So a token's logits do not depend on how many tokens
/// (below <see cref="MaxTokens"/>) share its forward step: speculative verification and small decode batches
/// give exactly the bits of decoding each token alone.
/// </summary>
internal static class FewTokens
{
    /// <summary>The most tokens a few-token kernel takes, and the batch size from which tiles take over.</summary>
    public const int MaxTokens = Q8Tiles.WideTokens;
}
