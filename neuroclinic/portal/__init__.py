"""The patient portal: questionnaires by link, on the clinic tablet and in the intake
packet; sign-in, the packet, documents, consent and progress. No models of its own."""
