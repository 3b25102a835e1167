/** Losses on logits with their gradients, for training and attacks. */
package dev.opnorm.nn.loss;
