package dev.ncalign.reward.serving;

import dev.ncalign.proto.v1.ScoreItem;
import dev.ncalign.proto.v1.ScoreRequest;
import dev.ncalign.serving.InvalidRequestException;
import dev.ncalign.serving.TextLimit;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a Score request before anything is tokenized (item count, characters per text) and turns
 * it into the scorer's plain items. Every failure is an {@link InvalidRequestException} naming the
 * proto field.
 */
final class ScoreRequestValidator {

  private final int maxItems;
  private final TextLimit text;

  ScoreRequestValidator(int maxItems, TextLimit text) {
    this.maxItems = maxItems;
    this.text = text;
  }

  /** The request's items, checked. */
  List<RewardScorer.Item> items(ScoreRequest request) {
    int count = request.getItemsCount();
    if (count == 0) {
      throw new InvalidRequestException("items", "must not be empty");
    }
    if (count > maxItems) {
      throw new InvalidRequestException("items", count + " items exceed the limit of " + maxItems);
    }
    List<RewardScorer.Item> items = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ScoreItem item = request.getItems(i);
      text.check("items[" + i + "].prompt", item.getPrompt());
      text.check("items[" + i + "].response", item.getResponse());
      items.add(new RewardScorer.Item(item.getPrompt(), item.getResponse()));
    }
    return items;
  }

  /** Most items in one Score call. */
  int maxItems() {
    return maxItems;
  }

  /** Most characters in one prompt or response. */
  TextLimit text() {
    return text;
  }
}
